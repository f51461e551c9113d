"""The bot over HTTP, end to end: the real `python main.py` (polling, then webhook) against the
project's loopback Bot API emulator (tests/e2e/emulator.py), and a bare aiogram echo bot
(bench/echo_bot.py) on the same emulator in the same run, alternated round by round. Also, with
--old-tree, the same bot from another checkout (e.g. a `git worktree` of the commit before a
change), so a change is measured against what it replaces in the same run. Prints a table and
a JSON line; asserts nothing.

    python bench/http_bench.py [--updates 3000] [--users 300] [--rounds 3] [--old-tree /tmp/old]

A round: a fresh emulator and database; the users register with /start (not timed); then
`--updates` updates (`/buy boost`, `/convert 1`, `/balance`, from the users in turn; the echo
bot gets the same texts) are queued at once, and the time runs until every one was confirmed
and answered. Updates/s, medians over the rounds; the ratio is ours over the echo bot's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import aiohttp  # noqa: E402

from bot.fake import Person  # noqa: E402
from tests.e2e.emulator import TOKEN, Emulator  # noqa: E402

SECRET = "bench_secret-" + "x" * 20
HOOK = "https://bot.example.test/tg/hook"
TEXTS = ("/buy boost", "/convert 1", "/balance")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # type: ignore[no-any-return]


async def start(kind: str, tree: Path, emu: Emulator, tmp: Path, webhook: bool) -> tuple[asyncio.subprocess.Process, str]:
    port = free_port()
    env = {**os.environ, "BOT_TOKEN": TOKEN, "TELEGRAM_API_URL": emu.url, "ADMIN_IDS": "9000",
           "DATABASE_URL": f"sqlite:///{tmp / 'bot.db'}", "LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1",
           "THROTTLE_BURST": "1000000", "THROTTLE_PER_MINUTE": "1000000"}
    if webhook:
        env.update(WEBHOOK_URL=HOOK, WEBHOOK_SECRET=SECRET, WEB_PORT=str(port))
    script = tree / ("bench/echo_bot.py" if kind == "echo" else "main.py")
    log = open(tmp / f"{kind}.log", "ab")
    proc = await asyncio.create_subprocess_exec(sys.executable, str(script), cwd=tree, env=env, stdout=log,
                                                stderr=log)
    log.close()
    base = f"http://127.0.0.1:{port}"
    if webhook:
        deadline = time.monotonic() + 60
        async with aiohttp.ClientSession() as s:
            while True:
                if proc.returncode is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{kind} did not start: {(tmp / f'{kind}.log').read_text()[-2000:]}")
                try:
                    async with s.get(base + "/readyz") as r:
                        if r.status == 200 and emu.telegram.webhook is not None:
                            break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
        emu.targets.append(base)
    return proc, base


async def settle(emu: Emulator, sent_before: int, expected: int, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (len(emu.telegram.sent) - sent_before >= expected and not emu.pending and not emu.redeliver
                and all(u in emu.acked for u in emu.delivered)):
            return
        await asyncio.sleep(0.005)
    raise RuntimeError(f"only {len(emu.telegram.sent) - sent_before} of {expected} answers in {timeout} s")


async def one(kind: str, tree: Path, webhook: bool, users: int, updates: int) -> float:
    emu = Emulator()
    await emu.start()
    with tempfile.TemporaryDirectory() as tmp:
        proc, _ = await start(kind, tree, emu, Path(tmp), webhook)
        try:
            people = [Person(100_000 + i, f"U{i}", None, "en") for i in range(users)]
            before = len(emu.telegram.sent)
            for p in people:
                emu.say(p, "/start")
            await settle(emu, before, users)
            if kind != "echo":  # tokens to spend: the registration bonus, converted
                before = len(emu.telegram.sent)
                for p in people:
                    emu.say(p, "/convert 50")
                await settle(emu, before, users)
            before = len(emu.telegram.sent)
            t0 = time.perf_counter()
            for i in range(updates):
                emu.say(people[i % users], TEXTS[i % len(TEXTS)])
            await settle(emu, before, updates)
            return updates / (time.perf_counter() - t0)
        finally:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    await asyncio.wait_for(proc.wait(), 30)
                except asyncio.TimeoutError:
                    proc.kill()
                    await proc.wait()
            await emu.stop()


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--updates", type=int, default=3000)
    ap.add_argument("--users", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--old-tree", type=Path, help="another checkout of the bot, measured too (its main.py)")
    args = ap.parse_args()
    bots = [("echo", ROOT), ("ours", ROOT)] + ([("old", args.old_tree.resolve())] if args.old_tree else [])
    out: dict[str, float] = {}
    for mode, webhook in (("polling", False), ("webhook", True)):
        rates: dict[str, list[float]] = {name: [] for name, _ in bots}
        for _ in range(args.rounds):
            for name, tree in bots:
                rates[name].append(await one("echo" if name == "echo" else "bot", tree, webhook, args.users,
                                             args.updates))
        med = {name: statistics.median(r) for name, r in rates.items()}
        for name, _ in bots:
            shown = ", ".join(f"{r:,.0f}" for r in rates[name])
            ratio = f"  ratio to echo {med[name] / med['echo']:.2f}" if name != "echo" else ""
            print(f"{mode:8} {name:5} {med[name]:>8,.0f} updates/s (rounds: {shown}){ratio}")
            out[f"{mode}_{name}"] = round(med[name])
        out[f"{mode}_ratio"] = round(med["ours"] / med["echo"], 2)
        if "old" in med:
            out[f"{mode}_old_ratio"] = round(med["old"] / med["echo"], 2)
    print(json.dumps(out))


if __name__ == "__main__":
    asyncio.run(main())
