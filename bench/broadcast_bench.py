"""A broadcast to 10,000 recipients through the real `python main.py` and the e2e Bot API
emulator, with 429s (retry_after) and 403s (blocked users) injected: the rate it held (overall
and the most sends in any one second), the time, and that nobody got it twice. Prints a table
and a JSON line; asserts nothing.

    python bench/broadcast_bench.py [--recipients 10000] [--rate 25] [--blocked 200] [--flood-every 20]
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from economy import Ledger
from economy.broadcasts import Broadcasts
from tests.e2e.emulator import BotProcess, Emulator
from tests.e2e.test_broadcast import populate
from tests.e2e.test_e2e import ADMIN

TEXT = "Benchmark broadcast"


async def main(args: argparse.Namespace) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="broadcast-bench-"))
    db = args.db or f"sqlite:///{tmp / 'bench.db'}"
    ids = range(200_001, 200_001 + args.recipients)
    started = time.perf_counter()
    await populate(db, ids)
    print(f"{args.recipients} users registered in {time.perf_counter() - started:.1f}s", file=sys.stderr)
    emu = Emulator()
    await emu.start()
    blocked = set(ids[:: max(1, args.recipients // args.blocked)]) if args.blocked else set()
    emu.telegram.blocked.update(blocked)
    stamps: list[float] = []
    chats: list[int] = []
    floods = 0

    def seen(sent) -> None:
        if sent.method == "sendMessage" and sent.text == TEXT and sent.chat_id != ADMIN.id:
            stamps.append(time.monotonic())
            chats.append(sent.chat_id)

    emu.telegram.listeners.append(seen)
    proc = BotProcess(emu.url, db, str(ADMIN.id), tmp / "bot.log", BROADCAST_RATE=str(args.rate),
                      THROTTLE_BURST="1000000", THROTTLE_PER_MINUTE="1000000")
    await proc.start()
    try:
        mark = len(emu.telegram.sent)
        emu.say(ADMIN, f"/broadcast all {TEXT}")
        preview = await emu.reply(ADMIN.id, mark, "recipients", timeout=120)
        emu.tap(ADMIN, preview, next(d for t, d in preview.buttons() if "Send" in t))
        began = time.monotonic()

        def summary():
            return next((s for s in emu.telegram.sent[mark:] if s.chat_id == ADMIN.id
                         and ("finished" in s.text or "tamamlandı" in s.text)), None)

        next_flood = began + args.flood_every
        while summary() is None:
            if args.flood_every and time.monotonic() >= next_flood:  # a 429 for the next send
                emu.faults.setdefault("sendMessage", []).append(("retry_after", args.retry_after))
                floods += 1
                next_flood += args.flood_every
            if time.monotonic() - began > args.timeout:
                raise SystemExit("the broadcast did not finish in time")
            await asyncio.sleep(0.05)
        took = time.monotonic() - began
        await proc.terminate()
    finally:
        if proc.proc is not None and proc.proc.returncode is None:
            await proc.kill()
        await emu.stop()
    async with await Ledger.open(db) as ledger:
        b = await Broadcasts(ledger).get(1)
    sender = [line for line in (tmp / "bot.log").read_text().splitlines() if "most sends within one second" in line]
    sent_busiest = int(sender[-1].rsplit(" ", 1)[1]) if sender else None
    twice = sum(1 for n in Counter(chats).values() if n > 1)
    busiest = max((bisect.bisect_left(stamps, t + 1.0) - i for i, t in enumerate(stamps)), default=0)
    span = stamps[-1] - stamps[0] if len(stamps) > 1 else 0.0
    paused = floods * args.retry_after
    return {
        "recipients": b.total, "sent": b.counts["sent"], "blocked": b.counts["blocked"],
        "failed": b.counts["failed"], "unknown": b.counts["unknown"], "received": len(chats),
        "received_twice": twice, "injected_429": floods, "retry_after_s": args.retry_after,
        "rate_setting": args.rate, "most_in_any_second_as_sent": sent_busiest,
        "most_in_any_second_as_received": busiest,
        "rate_overall": round(len(stamps) / span, 2) if span else None,
        "rate_between_pauses": round(len(stamps) / (span - paused), 2) if span > paused else None,
        # the 403s took their slots too
        "sends_per_s_between_pauses": round((len(stamps) + b.counts["blocked"]) / (span - paused), 2)
        if span > paused else None,
        "seconds": round(took, 1), "state": b.state,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--rate", type=int, default=25)
    parser.add_argument("--blocked", type=int, default=200, help="recipients who blocked the bot (403)")
    parser.add_argument("--flood-every", type=float, default=20.0, help="seconds between two injected 429s")
    parser.add_argument("--retry-after", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=3600)
    parser.add_argument("--db", default="", help="a DATABASE_URL (default: SQLite in a temporary directory)")
    result = asyncio.run(main(parser.parse_args()))
    for key, value in result.items():
        print(f"{key:>22}  {value}")
    print(json.dumps(result))
