"""Updates per second through the real dispatcher and the real ledger (no network: Telegram is
bot.fake in process), against aiogram's own ceiling measured in the same run (the same updates
through a dispatcher whose handler does nothing); then the scale figures on a large database.
Prints a table and a JSON line; asserts nothing.

    python bench/bot_bench.py [--updates 20000] [--in-flight 1000] [--users 100000] [--rows 1000000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from aiogram import Dispatcher  # noqa: E402
from aiogram.types import Update  # noqa: E402

from bot.runtime import tune_interpreter  # noqa: E402
from bot.config import Settings  # noqa: E402
from app import build_dispatcher  # noqa: E402
from bot.factory import build_bot  # noqa: E402
from bot.fake import FakeTelegram, LocalSession, Person, Updates  # noqa: E402
from economy import Ledger  # noqa: E402

TOKEN = "123456:" + "B" * 35


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))] * 1000


def settings(db: Path) -> Settings:
    return Settings.from_env({"BOT_TOKEN": TOKEN, "ADMIN_IDS": "1", "DATABASE_URL": f"sqlite:///{db}",
                              "THROTTLE_BURST": "1000000", "THROTTLE_PER_MINUTE": "1000000"})


async def feed_all(dp: Dispatcher, bot, updates: list[Update], in_flight: int) -> tuple[float, list[float]]:
    latencies: list[float] = []

    async def one(update: Update) -> None:
        t0 = time.perf_counter()
        await dp.feed_update(bot, update)
        latencies.append(time.perf_counter() - t0)

    t0 = time.perf_counter()
    for i in range(0, len(updates), in_flight):
        await asyncio.gather(*(one(u) for u in updates[i : i + in_flight]))
    return len(updates) / (time.perf_counter() - t0), latencies


async def throughput(tmp: Path, n: int, in_flight: int, users: int) -> dict[str, float]:
    tmp.mkdir()
    s = settings(tmp / "load.db")
    ledger = await Ledger.open(tmp / "load.db", catalog=s.catalog)
    bot = build_bot(s, LocalSession(FakeTelegram()))
    dp = build_dispatcher(s, ledger)
    people = [Person(1000 + i, f"U{i}", None, "en") for i in range(users)]
    for start in range(0, users, 500):
        chunk = people[start : start + 500]
        await asyncio.gather(*(ledger.register(p.id) for p in chunk))
        await asyncio.gather(*(ledger.grant(p.id, 1_000_000) for p in chunk))
        await asyncio.gather(*(ledger.convert(p.id, 500_000) for p in chunk))
    rng = random.Random(5)
    factory = Updates()
    texts = ["/buy boost", "/convert 1", "/balance"]
    updates = [Update.model_validate(factory.message(rng.choice(people), rng.choice(texts)), context={"bot": bot})
               for _ in range(n)]
    rate, latencies = await feed_all(dp, bot, updates, in_flight)
    problems = await ledger.verify()
    await ledger.close()

    # aiogram's ceiling: the same updates, a handler that does nothing
    idle = Dispatcher()
    idle.message.register(lambda message: None)
    idle_bot = build_bot(s, LocalSession(FakeTelegram()))
    same = [Update.model_validate(u.model_dump(), context={"bot": idle_bot}) for u in updates]
    ceiling, _ = await feed_all(idle, idle_bot, same, in_flight)
    return {"updates_per_s": rate, "p50_ms": pct(latencies, 0.5), "p99_ms": pct(latencies, 0.99),
            "ceiling_per_s": ceiling, "ratio": rate / ceiling, "verify_ok": not problems}


async def build_large(path: Path, users: int, rows: int) -> float:
    t0 = time.perf_counter()
    ledger = await Ledger.open(path, synchronous="OFF")
    for start in range(1, users + 1, 2000):
        batch = range(start, min(start + 2000, users + 1))
        await asyncio.gather(*(ledger.register(u, first_name=f"user{u}") for u in batch))
    rng = random.Random(3)
    made = users  # each registration wrote one transfer
    while made < rows:
        batch = [rng.randint(1, users) for _ in range(2000)]
        await asyncio.gather(*(ledger.grant(u, 40, reason="bench") for u in batch))
        await asyncio.gather(*(ledger.convert(u, 20) for u in batch[:1000]))  # two transfers each
        await asyncio.gather(*(ledger.buy(u, "boost") for u in batch[:1000]), return_exceptions=True)
        made += 2000 + 2000 + 1000
    await ledger.close()
    return time.perf_counter() - t0


async def scale(path: Path, users: int, samples: int = 2000) -> dict[str, float]:
    t0 = time.perf_counter()
    ledger = await Ledger.open(path)
    await ledger.balance(1)
    startup = time.perf_counter() - t0
    rng = random.Random(9)
    out: dict[str, float] = {"startup_s": startup}
    for name, call, n in [
        ("balance", lambda: ledger.balance(rng.randint(1, users)), samples),
        ("history_page", lambda: ledger.history(rng.randint(1, users), rng.randint(0, 2)), samples),
        ("top", lambda: ledger.top_spenders(10), 200),
        ("stats", ledger.stats, 200),
    ]:
        lat = []
        for _ in range(n):
            t = time.perf_counter()
            await call()
            lat.append(time.perf_counter() - t)
        out[f"{name}_p99_ms"] = pct(lat, 0.99)
    out["journal_rows"] = await ledger.store.read(lambda db: db.execute("SELECT MAX(id) FROM transfers").fetchone()[0])
    await ledger.close()
    return out


async def probe(db: Path, users: int, n: int = 2000) -> None:
    """Run as a child process: the bot as `main.py` builds it, on the large database; print
    how long it took to be ready and its peak resident memory after `n` updates."""
    ready_at = time.perf_counter()
    s = settings(db)
    ledger = await Ledger.open(db, catalog=s.catalog)
    telegram = FakeTelegram()
    bot = build_bot(s, LocalSession(telegram))
    dp = build_dispatcher(s, ledger)
    await ledger.balance(1)
    tune_interpreter()
    ready = time.perf_counter() - ready_at
    factory = Updates()
    rng = random.Random(1)
    for _ in range(n):
        who = Person(rng.randint(1, users), "u", None, "en")
        raw = factory.message(who, rng.choice(["/balance", "/history", "/top", "/convert 1"]))
        await dp.feed_update(bot, Update.model_validate(raw, context={"bot": bot}))
        telegram.calls.clear()  # the fake's own records are not the bot's memory
        telegram.sent.clear()
        telegram.messages.clear()
    await ledger.close()
    print(json.dumps({"ready_s": ready, "rss_mb": peak_rss_mb()}))


def peak_rss_mb() -> float:
    """This process's peak resident memory. Not `ru_maxrss`: Linux carries the parent's peak
    across fork and exec into it, so a child of a big parent would report the parent's figure."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_probe(db: Path, users: int) -> dict[str, float]:
    import subprocess
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, __file__, "--probe", str(db), "--users", str(users)], capture_output=True,
                         text=True, check=True).stdout
    result = json.loads(out.strip().splitlines()[-1])
    result["process_s"] = time.perf_counter() - t0
    return result


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--probe", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--updates", type=int, default=20_000)
    ap.add_argument("--in-flight", type=int, default=1000)
    ap.add_argument("--load-users", type=int, default=2000)
    ap.add_argument("--users", type=int, default=100_000)
    ap.add_argument("--rows", type=int, default=1_000_000)
    args = ap.parse_args()
    if args.probe:
        await probe(args.probe, args.users)
        return
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        base = await throughput(tmp / "default-gc", args.updates, args.in_flight, args.load_users)
        tune_interpreter()  # what app.run does before polling
        t = await throughput(tmp / "tuned-gc", args.updates, args.in_flight, args.load_users)
        for label, r in [("Python's default GC", base), ("GC tuned as the bot runs", t)]:
            print(f"{label}:")
            print(f"  dispatcher+ledger  {r['updates_per_s']:>7,.0f} updates/s  p50 {r['p50_ms']:.0f} ms  p99 {r['p99_ms']:.0f} ms"
                  f"  ({args.in_flight} in flight; /buy boost, /convert 1, /balance; verify {'ok' if r['verify_ok'] else 'FAILED'})")
            print(f"  aiogram ceiling    {r['ceiling_per_s']:>7,.0f} updates/s  (handler does nothing)  ratio {r['ratio']:.2f}")
        built = await build_large(tmp / "large.db", args.users, args.rows)
        sc = await scale(tmp / "large.db", args.users)
        print(f"large database: {args.users:,} users, {sc['journal_rows']:,} journal rows (built in {built:.0f} s)")
        print(f"  start-up {sc['startup_s'] * 1000:.0f} ms · /balance p99 {sc['balance_p99_ms']:.2f} ms · /history page p99"
              f" {sc['history_page_p99_ms']:.2f} ms · /top p99 {sc['top_p99_ms']:.2f} ms · /stats p99 {sc['stats_p99_ms']:.2f} ms")
        p = run_probe(tmp / "large.db", args.users)
        print(f"  the bot on it (child process, 2,000 updates): ready {p['ready_s'] * 1000:.0f} ms after its imports,"
              f" whole process {p['process_s']:.1f} s with 2,000 updates; peak resident memory {p['rss_mb']:.0f} MB")
        print(json.dumps({**{k: round(v, 3) if isinstance(v, float) else v for k, v in t.items()},
                          "default_gc_updates_per_s": round(base["updates_per_s"], 1),
                          "default_gc_ceiling_per_s": round(base["ceiling_per_s"], 1),
                          **{k: round(v, 3) for k, v in sc.items()},
                          "bot_ready_s": round(p["ready_s"], 3), "bot_rss_mb": round(p["rss_mb"])}))

if __name__ == "__main__":
    asyncio.run(main())
