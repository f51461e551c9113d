"""Operator CLI: `python -m economy [--db URL] balance|history|stats|export|verify|demo|apikey|audit|backup|copy`."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

from economy import views
from economy.amounts import format_money
from economy.apikeys import SCOPES, ApiKeys
from economy.audit import CLI, AuditFilter, AuditLog
from economy.audit import since as audit_since
from economy.catalog import Catalog
from economy.errors import EconomyError
from economy.ledger import Ledger
from economy.redact import Redactor
from economy.storage import DEFAULT_URL, DatabaseUnavailable, FileError, damaged, open_failure
from economy.storage.schema import SchemaMismatch

#: Commands that only read: they open the database read only (nothing created, migrated or
#: written) and refuse one that is not a ledger at this code's schema version.
READ_ONLY = frozenset({"balance", "history", "stats", "export", "verify", "apikey list", "audit"})

def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m economy", description="Inspect and check the economy ledger.")
    p.add_argument("--db", help=f"sqlite:///path, postgresql://user:password@host/dbname or a file path"
                   f" (default: $DATABASE_URL or {DEFAULT_URL})")
    sub = p.add_subparsers(dest="command", required=True, metavar="command")
    for name, text in (("balance", "a user's balances and entitlements (JSON)"),
                       ("history", "a user's journal, newest first (JSON)")):
        c = sub.add_parser(name, help=text)
        c.add_argument("user_id", type=int)
        if name == "history":
            c.add_argument("--page", type=int, default=0)
            c.add_argument("--per-page", type=int, default=20)
    sub.add_parser("stats", help="system figures (JSON)")
    c = sub.add_parser("export", help="the whole journal as CSV on stdout")
    c.add_argument("--audit", action="store_true", help="the audit trail instead of the journal (CSV, newest first)")
    c = sub.add_parser("audit", help="the admin actions, newest first (JSON lines)")
    c.add_argument("--user", type=int, metavar="ID", help="actions about this user")
    c.add_argument("--actor", metavar="ID", help="by this admin (Telegram id), API key name, or cli")
    c.add_argument("--since", metavar="DATE", help="from this UTC date (2026-12-01) or ISO time on")
    c.add_argument("--limit", type=int, metavar="N", help="at most N lines")
    c = sub.add_parser("backup", help="a verified copy of the ledger while the bot runs (SQLite; pg_dump on PostgreSQL)")
    c.add_argument("dest", type=Path, metavar="DEST")
    sub.add_parser("verify", help="check every invariant; exit 1 if one fails")
    sub.add_parser("demo", help="play the seeds' two journeys on a scratch database")
    keys = sub.add_parser("apikey", help="keys of the HTTP API: create, list, revoke")
    actions = keys.add_subparsers(dest="action", required=True, metavar="action")
    create = actions.add_parser("create", help="make a key; it is printed once, alone on the last line")
    create.add_argument("name")
    create.add_argument("--scope", choices=SCOPES, required=True)
    actions.add_parser("list", help="every key's name, scope and dates (JSON; never the keys)")
    revoke = actions.add_parser("revoke", help="refuse a key from now on")
    revoke.add_argument("name")
    c = sub.add_parser("copy", help="the whole ledger from one database to another (SQLite <-> PostgreSQL)")
    c.add_argument("src", metavar="SRC_URL")
    c.add_argument("dst", metavar="DST_URL")
    c.add_argument("--force", action="store_true", help="replace a target ledger in use, whole, in one transaction")
    c.add_argument("--batch", type=int, default=5000, help="rows per transaction (default 5000)")
    c = sub.add_parser("import-legacy", help="balances and quotas from the seeds' old systems (dry run by default)")
    c.add_argument("--tokens", type=Path, metavar="tokens.db", help="the old token engine's SQLite file")
    c.add_argument("--credits", type=Path, metavar="credits.csv", help="the old credit system's users (CSV)")
    c.add_argument("--map", type=Path, metavar="ids.csv", help="old_id,telegram_id for ids that are not Telegram ids")
    c.add_argument("--apply", action="store_true", help="write it, in chunks that take turns with the bot (else nothing is written)")
    return p


async def _run(args: argparse.Namespace) -> int:
    if args.command == "demo":
        return await demo()
    if args.command == "copy":
        return await copy_command(args)
    if args.command == "import-legacy":
        return await import_command(args)
    if args.command == "backup":
        return await backup_command(args)
    where = args.db or os.environ.get("DATABASE_URL") or DEFAULT_URL
    catalog = Catalog.from_mapping(os.environ)
    reading = f"{args.command} {getattr(args, 'action', '')}".strip() in READ_ONLY
    try:
        ledger = await Ledger.open(where, catalog=catalog, read_only=reading)
    except FileError as exc:
        if args.command == "verify" and damaged(exc):
            print(f"damaged: {exc}")  # the damage is what verify reports
            return 1
        raise
    try:
        if args.command == "balance":
            print(json.dumps(views.balance(await ledger.balance(args.user_id)), indent=2))
        elif args.command == "history":
            print(json.dumps(views.history(await ledger.history(args.user_id, args.page, args.per_page)), indent=2))
        elif args.command == "stats":
            print(json.dumps(views.stats(await ledger.stats()), indent=2))
        elif args.command == "apikey":
            return await _apikey(ApiKeys(ledger.store), args)
        elif args.command == "export" and args.audit:
            await AuditLog(ledger.store).export_csv(sys.stdout)
        elif args.command == "export":
            await ledger.export_csv(sys.stdout)
        elif args.command == "audit":
            return await audit_command(ledger, args)
        elif args.command == "verify":
            problems = await ledger.verify()
            if problems:
                for line in problems:
                    print(line)
                return 1
            s = await ledger.stats()
            print(f"ok: {s.users} users, {s.tokens_minted} tokens minted, {s.tokens_in_circulation} in circulation,"
                  f" credit quota {format_money(s.credit_quota)} used {format_money(s.credit_used)}; every invariant holds")
    finally:
        await ledger.close()
    return 0


async def _apikey(keys: ApiKeys, args: argparse.Namespace) -> int:
    if args.action == "create":
        made, key = await keys.create(args.name, args.scope)
        print(f"API key {made.name!r} ({made.scope}) created. It is shown only now; keep it secret:")
        print(key)
    elif args.action == "list":
        print(json.dumps([asdict(k) for k in await keys.list()], indent=2))
    else:
        gone = await keys.revoke(args.name)
        print(f"API key {gone.name!r} revoked")
    return 0


async def audit_command(ledger: Ledger, args: argparse.Namespace) -> int:
    if args.limit is not None and args.limit < 1:
        raise ValueError("--limit must be a positive number")
    flt = AuditFilter(user_id=args.user, actor=args.actor.strip() if args.actor else None,
                      since=audit_since(args.since) if args.since else None)
    n = 0
    async for entry in AuditLog(ledger.store).walk(flt):
        print(json.dumps(entry.as_dict(), ensure_ascii=False))
        n += 1
        if args.limit is not None and n >= args.limit:
            break
    return 0


async def backup_command(args: argparse.Namespace) -> int:
    """A verified snapshot (economy/backup.py), then recorded in the audit trail (actor cli)."""
    from economy.backup import BackupFailed, backup
    from economy.storage import look
    where = args.db or os.environ.get("DATABASE_URL") or DEFAULT_URL
    found = await look(where)
    if (problem := found.problem()) is not None:
        raise SchemaMismatch(problem)
    try:
        made = await backup(where, args.dest)
    except BackupFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2 if "pg_dump" in str(exc) and "PATH" in str(exc) else 1
    async with await Ledger.open(where) as ledger:
        await AuditLog(ledger.store).add(CLI, "backup", amount=made.size, unit="bytes",
                                         note=f"{made.path}: {made.checked}")
    print(f"ok: backup {made.path} ({made.size:,} bytes, {made.seconds:.1f} s); {made.checked}")
    return 0


async def copy_command(args: argparse.Namespace) -> int:
    from economy.copying import CopyRefused, copy_ledger
    if args.batch < 1:
        raise ValueError("--batch must be a positive number of rows")
    try:
        report = await copy_ledger(args.src, args.dst, force=args.force, batch=args.batch)
    except CopyRefused as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for line in report.cleaned:
        print(line)
    if report.problems:
        for line in report.problems:
            print(line)
        return 1
    print(f"ok: copied {', '.join(f'{n:,} {t}' for t, n in report.rows.items())}"
          f"{' (resumed)' if report.resumed else ''}{' (the target replaced whole)' if report.replaced else ''};"
          f" the target verifies and every row equals the source's{' (cleaned as above)' if report.cleaned else ''}")
    return 0


async def import_command(args: argparse.Namespace) -> int:
    from economy import legacy
    if args.tokens is None and args.credits is None:
        raise ValueError("import-legacy needs --tokens tokens.db and/or --credits credits.csv")
    try:
        plan = legacy.make_plan(args.tokens, args.credits, args.map)
    except legacy.LegacyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    where = args.db or os.environ.get("DATABASE_URL") or DEFAULT_URL
    # the dry run only reads: it never creates, migrates or writes the ledger
    async with await Ledger.open(where, catalog=Catalog.from_mapping(os.environ), read_only=not args.apply) as ledger:
        already = await legacy.already_imported(ledger, plan)
        applied = await legacy.apply(ledger, plan, progress=legacy.print_progress) if args.apply else None
        problems = await ledger.verify() if args.apply else []
        after = await legacy.ledger_sums(ledger, plan) if args.apply else None
    for line in legacy.report(plan, already, applied, after):
        print(line)
    for line in problems:
        print(f"verify: {line}")
    return 1 if problems or (after is not None and after != plan.sums()) else 0


async def demo() -> int:
    """The seed's two journeys and the quota scenario, step by step."""
    with tempfile.TemporaryDirectory() as tmp:
        ledger = await Ledger.open(Path(tmp) / "demo.db")
        try:
            async def show(user: int, step: str) -> None:
                b = await ledger.balance(user)
                print(f"  {step:<38} xp={b.xp:<4} tokens={b.tokens}")

            for cid in ("video_001", "video_002", "video_003"):
                await ledger.add_content(cid, title=cid, media="document", file_ref="demo")
            print("New user journey (user 1001)")
            await ledger.register(1001, first_name="New")
            await show(1001, "registration bonus +50 XP")
            await ledger.daily(1001)
            await show(1001, "first daily task +20 XP")
            await ledger.convert(1001)
            await show(1001, "convert all XP to tokens")
            await ledger.buy(1001, "content", "video_001")
            await show(1001, "premium content -10")
            await ledger.buy(1001, "boost")
            await show(1001, "task boost -5")
            print("Power user journey (user 1002)")
            await ledger.register(1002, first_name="Power")
            await ledger.grant(1002, 200, reason="weekly tasks", actor=1)
            await ledger.convert(1002, 200)
            await show(1002, "weekly tasks +200 XP, convert 200")
            for step, args in (("VIP -25", ("vip",)), ("collector badge -50", ("badge",)),
                               ("priority DM -15", ("dm",))):
                await ledger.buy(1002, *args)
                await show(1002, step)
            for cid in ("video_001", "video_002", "video_003"):
                await ledger.buy(1002, "content", cid)
            await show(1002, "three premium contents -30")
            print("Reverse credit (user 1001)")
            for step, call in (("quota 1000.00", ledger.raise_quota(1001, 100_000, actor=1)),
                               ("file charged 100.00", ledger.charge(1001, 10_000, actor=1))):
                c = await call
                print(f"  {step:<38} quota={format_money(c.quota)} used={format_money(c.used)}"
                      f" available={format_money(c.available)}")
            try:
                await ledger.charge(1001, 95_000, actor=1)
            except EconomyError as exc:
                print(f"  file of 950.00 refused: credit limit would be exceeded ({exc})")
            c = await ledger.refund(1001, 10_000, actor=1)
            print(f"  {'refund 100.00':<38} quota={format_money(c.quota)} used={format_money(c.used)}"
                  f" available={format_money(c.available)}")
            problems = await ledger.verify()
            print("verify:", "ok" if not problems else problems)
            return 1 if problems else 0
        finally:
            await ledger.close()


def main(argv: list[str] | None = None) -> int:
    # Passwords in a database URL (and a bot token in the environment) never reach the output.
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    redact = Redactor(secrets=[os.environ.get("BOT_TOKEN", "").strip()]).install()
    args = _parser().parse_args(argv)
    try:
        return asyncio.run(_run(args))
    except EconomyError as exc:
        print(f"error: {type(exc).__name__}: {redact(str(exc))}", file=sys.stderr)
        return 2
    except (ValueError, DatabaseUnavailable, SchemaMismatch) as exc:
        print(f"error: {redact(str(exc))}", file=sys.stderr)
        return 2
    except FileError as exc:
        where = args.db or os.environ.get("DATABASE_URL") or DEFAULT_URL
        print(f"error: {redact(open_failure(where, exc))}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
