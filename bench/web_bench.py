"""HTTP load on loopback: webhook updates/s and API requests/s (GET balance, POST spend) with
p50/p99, against a bare aiohttp "return 200" server measured in the same run (the ceiling).
The webhook is also measured against aiogram's own ceiling: the same web app and webhook route
(secret check, Update validation, `dp.feed_update`) whose dispatcher has one handler that does
nothing (no ledger, no reply), fed the same bodies in the same rounds. Each server is a child
process (one core), the client here is bounded (a fixed number of connections, a fixed number
of requests). Prints a table and a JSON line; asserts nothing.

    python bench/web_bench.py [--requests 10000] [--rounds 3] [--connections 64] [--users 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Self

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import aiohttp  # noqa: E402
from aiohttp import web  # noqa: E402

from bot.fake import Person, Updates  # noqa: E402

SECRET = "bench-secret"
TOKEN = "123456:" + "W" * 35


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))] * 1000 if values else 0.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- the servers (child processes) --
async def serve_ceiling(port: int) -> None:
    async def hook(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(status=200)

    async def get(request: web.Request) -> web.Response:
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/hook", hook)
    app.router.add_get("/api/v1/users/{user_id}/balance", get)
    app.router.add_post("/api/v1/spend", hook)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    print("READY -", flush=True)
    await _until_term()


async def serve_app(port: int, db: Path, users: int, noop: bool = False) -> None:
    """The real thing as app.py wires it in webhook mode, Telegram replaced by bot.fake.
    `noop`: the dispatcher is aiogram's alone, one handler doing nothing for messages and
    callback queries (no middlewares, no ledger call, no reply); the rest is the same."""
    from aiogram import Dispatcher, Router

    from app import build_dispatcher
    from bot.runtime import tune_interpreter
    from bot.config import Settings
    from bot.factory import build_bot
    from bot.fake import FakeTelegram, LocalSession
    from bot.middlewares import RETRY
    from economy import Ledger
    from economy.apikeys import ApiKeys
    from web.config import WebSettings
    from web.metrics import Metrics
    from web.server import Health, WebServer, build_web_app
    from web.webhook import Webhook

    s = Settings.from_env({"BOT_TOKEN": TOKEN, "ADMIN_IDS": "1", "DATABASE_URL": f"sqlite:///{db}",
                           "THROTTLE_BURST": "1000000", "THROTTLE_PER_MINUTE": "1000000"})
    ledger = await Ledger.open(db, catalog=s.catalog)
    for start in range(0, 0 if noop else users, 500):
        chunk = range(1000 + start, 1000 + min(start + 500, users))
        await asyncio.gather(*(ledger.register(u) for u in chunk))
        await asyncio.gather(*(ledger.grant(u, 1_000_000) for u in chunk))
        await asyncio.gather(*(ledger.convert(u, 500_000) for u in chunk))
    _, key = await ApiKeys(ledger.store).create("bench", "write")
    bot = build_bot(s, LocalSession(FakeTelegram()))
    metrics = Metrics(ledger)
    if noop:
        async def nothing(event: object) -> None:
            return None

        router = Router()
        router.message.register(nothing)
        router.callback_query.register(nothing)
        dp = Dispatcher(disable_fsm=True)  # as bot.factory builds it: no FSM
        dp.include_router(router)
    else:
        dp = build_dispatcher(s, ledger, metrics, sole_worker=False)
    hook = Webhook(bot, dp, SECRET, lambda outcome: outcome == RETRY)
    health = Health(ledger, hook)
    health.registered = True
    server = WebServer(WebSettings(port=port), build_web_app(ledger, metrics, health=health, webhook=hook,
                                                             webhook_path="/hook"))
    await server.start()
    tune_interpreter()
    print(f"READY {key}", flush=True)
    await _until_term()
    await server.stop()
    problems = await ledger.verify()
    print(f"VERIFY {'ok' if not problems else problems[:3]}", flush=True)
    await ledger.close()


async def _until_term() -> None:
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()


# -- the client --
class Server:
    def __init__(self, *args: str) -> None:
        self.args, self.port = args, free_port()

    async def __aenter__(self) -> Self:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, __file__, "--serve", *self.args, "--port", str(self.port),
            stdout=asyncio.subprocess.PIPE)
        line = (await asyncio.wait_for(self.proc.stdout.readline(), 600)).decode()  # type: ignore[union-attr]
        assert line.startswith("READY"), line
        self.key = line.split()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.proc.send_signal(signal.SIGTERM)
        out, _ = await asyncio.wait_for(self.proc.communicate(), 60)
        self.tail = out.decode().strip()


async def load(base: str, requests: list[tuple[str, str, bytes, dict[str, str]]], connections: int
               ) -> dict[str, float]:
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    todo = iter(requests)
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(base, connector=connector) as session:
        async def worker() -> None:
            for method, path, body, headers in todo:
                t0 = time.perf_counter()
                async with session.request(method, path, data=body or None, headers=headers) as r:
                    await r.read()
                latencies.append(time.perf_counter() - t0)
                statuses[r.status] += 1

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        took = time.perf_counter() - t0
    return {"per_s": len(requests) / took, "p50_ms": pct(latencies, 0.5), "p99_ms": pct(latencies, 0.99),
            "non_2xx": sum(n for s, n in statuses.items() if not 200 <= s < 300)}


def workloads(n: int, users: int, key: str, run: int = 0) -> dict[str, list[tuple[str, str, bytes, dict[str, str]]]]:
    """Fresh update ids and Idempotency-Keys for each run (a repeat would be a replay)."""
    rng = random.Random(5 + run)
    people = [Person(1000 + i, f"U{i}", None, "en") for i in range(users)]
    factory = Updates(start=1_000_000 * (run + 1))
    hook_headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"}
    texts = ["/buy boost", "/convert 1", "/balance"]
    auth = {"Authorization": f"Bearer {key}"}
    return {
        "webhook": [("POST", "/hook", json.dumps(factory.message(rng.choice(people), rng.choice(texts))).encode(),
                     hook_headers) for _ in range(n)],
        "api_get_balance": [("GET", f"/api/v1/users/{rng.choice(people).id}/balance", b"", auth) for _ in range(n)],
        "api_post_spend": [("POST", "/api/v1/spend", json.dumps({"user_id": rng.choice(people).id,
                                                                  "item": "boost"}).encode(),
                            {**auth, "Content-Type": "application/json", "Idempotency-Key": f"bench-{run}-{i}"})
                           for i in range(n)],
    }


async def main(args: argparse.Namespace) -> None:
    """The servers run side by side; each workload alternates between them `rounds` times
    (the machine's speed drifts), and the median of each side is reported. The webhook's
    rounds also alternate with the aiogram no-op webhook, which gets the same bodies."""
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        async with Server("app", "--db", str(Path(tmp) / "web.db"), "--users", str(args.users)) as app, \
                Server("ceiling") as bare, \
                Server("noop", "--db", str(Path(tmp) / "noop.db"), "--users", "0") as noop:
            real = [workloads(args.requests, args.users, app.key, run) for run in range(args.rounds)]
            ceiling = workloads(args.requests, args.users, "-")
            for name in ceiling:
                runs: dict[str, list[dict[str, float]]] = {name: [], f"ceiling_{name}": []}
                for run in range(args.rounds):
                    runs[name].append(await load(app.base, real[run][name], args.connections))
                    if name == "webhook":
                        runs.setdefault("webhook_noop", []).append(
                            await load(noop.base, real[run][name], args.connections))
                    runs[f"ceiling_{name}"].append(await load(bare.base, ceiling[name], args.connections))
                for label, measured in runs.items():
                    measured.sort(key=lambda r: r["per_s"])
                    results[label] = {**measured[len(measured) // 2],
                                      "spread": measured[-1]["per_s"] / measured[0]["per_s"]}
        verify = app.tail
    print(f"{args.requests} requests per run, {args.rounds} runs alternating with the ceiling (medians),"
          f" {args.connections} connections, {args.users} users, {os.cpu_count()} cores; {verify}")
    print(f"{'':<18}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'ceiling/s':>11}{'ratio':>7}{'non-2xx':>9}")
    for name in ("webhook", "webhook_noop", "api_get_balance", "api_post_spend"):
        r, c = results[name], results[f"ceiling_{name.removesuffix('_noop')}"]
        r["ratio"] = r["per_s"] / c["per_s"]
        print(f"{name:<18}{r['per_s']:>9,.0f}{r['p50_ms']:>9.2f}{r['p99_ms']:>9.2f}{c['per_s']:>11,.0f}"
              f"{r['ratio']:>7.2f}{r['non_2xx']:>9.0f}")
    aiogram = results["webhook"]["per_s"] / results["webhook_noop"]["per_s"]
    results["webhook"]["ratio_to_noop"] = aiogram
    print(f"webhook / aiogram no-op webhook (same route, same bodies): {aiogram:.2f}")
    print(json.dumps({k: {m: round(v, 3) for m, v in r.items()} for k, r in results.items()}))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--users", type=int, default=2_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--serve", choices=("app", "noop", "ceiling"), help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve == "ceiling":
        asyncio.run(serve_ceiling(args.port))
    elif args.serve in ("app", "noop"):
        asyncio.run(serve_app(args.port, args.db, args.users, noop=args.serve == "noop"))
    else:
        asyncio.run(main(args))
