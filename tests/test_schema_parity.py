"""The two dialects' migrations (economy/storage/schema_sqlite.py, schema_postgres.py) reach the
same schema: after migrating an empty SQLite file and an empty PostgreSQL schema, their
tables, columns (types normalized), NOT NULLs, defaults, keys, foreign keys, CHECKs, indexes,
views, seeded system accounts and append-only triggers are compared, so a migration added to
one file and not the other (or spelled differently) fails here."""

from __future__ import annotations

import re
from typing import Any

import pytest

from economy.storage import postgres, schema_postgres, schema_sqlite, sqlite

#: kept per dialect, outside the ledger's schema
BOOKKEEPING = {"schema_version"}


def _type(declared: str) -> str:
    t = declared.lower()
    if t in ("integer", "bigint", "smallint", "int"):
        return "integer"
    if t in ("text", "character varying"):
        return "text"
    return t


def _default(value: Any) -> str | None:
    """A default as a plain literal: PostgreSQL's casts (`''::text`) dropped."""
    if value is None:
        return None
    text = re.sub(r"::[a-z ]+$", "", str(value).strip())
    return text.strip("()") or text


_MESSAGE = re.compile(r"RAISE(?:\(ABORT,| EXCEPTION)\s*'([^']*)'", re.IGNORECASE)


async def _sqlite_schema(path: Any) -> dict[str, Any]:
    db = await sqlite.connect(path)
    try:
        await schema_sqlite.migrate(db)
        out: dict[str, Any] = {"tables": {}, "views": {}, "strict": {}}
        tables = sorted(await db.tables() - BOOKKEEPING)
        for (name, strict) in await db.execute("SELECT name, strict FROM pragma_table_list WHERE schema = 'main'"):
            out["strict"][name] = bool(strict)
        for table in tables:
            sql = (await db.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?",
                                    (table,))).fetchone()[0]
            info = (await db.execute(f"PRAGMA table_info({table})")).fetchall()
            columns = {name: (_type(kind), bool(notnull) or pk > 0, _default(default))
                       for _, name, kind, notnull, default, pk in info}
            primary = tuple(name for _, name, _, _, _, pk in sorted(info, key=lambda r: r[5]) if pk > 0)
            unique, indexes = set(), set()
            for _, index, is_unique, origin, partial in await db.execute(f"PRAGMA index_list({table})"):
                cols = tuple(r[2] for r in await db.execute(f"PRAGMA index_info({index})"))
                if origin == "u":
                    unique.add(cols)
                elif origin == "c":
                    indexes.add((index, cols, bool(is_unique), bool(partial)))
            foreign = {(r[3], r[2], r[4]) for r in await db.execute(f"PRAGMA foreign_key_list({table})")}
            triggers = set()
            for name, body in await db.execute(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?", (table,)):
                head = body.split(" BEGIN", 1)[0].upper()
                message = _MESSAGE.search(body)
                for event in ("UPDATE", "DELETE", "INSERT"):
                    if re.search(rf"\b{event}\b", head):
                        triggers.add((event, " WHEN " in head, message.group(1) if message else None))
            out["tables"][table] = {
                "columns": columns, "primary": primary, "unique": unique, "indexes": indexes,
                "foreign": foreign, "checks": len(re.findall(r"\bCHECK\s*\(", sql, re.IGNORECASE)),
                "triggers": triggers,
            }
        for (view,) in await db.execute("SELECT name FROM sqlite_master WHERE type = 'view'"):
            out["views"][view] = [r[1] for r in await db.execute(f"PRAGMA table_info({view})")]
        out["accounts"] = (await db.execute("SELECT id, user_id, asset, name FROM accounts ORDER BY id")).fetchall()
        return out
    finally:
        await db.close()


async def _postgres_schema(url: str) -> dict[str, Any]:
    db = await postgres.connect(url)
    try:
        await schema_postgres.migrate(db)
        out: dict[str, Any] = {"tables": {}, "views": {}, "truncate": {}}
        tables = sorted(await db.tables() - BOOKKEEPING)
        for table in tables:
            columns = {}
            for name, kind, nullable, default, identity in await db.execute(
                    "SELECT column_name, data_type, is_nullable, column_default, is_identity"
                    " FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ?"
                    " ORDER BY ordinal_position", (table,)):
                columns[name] = (_type(kind), nullable == "NO", None if identity == "YES" else _default(default))
            constraints = (await db.execute(
                "SELECT c.contype, ARRAY(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(n, i)"
                " JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.i),"
                " (SELECT relname FROM pg_class WHERE oid = c.confrelid),"
                " ARRAY(SELECT a.attname FROM unnest(c.confkey) AS k(n)"
                " JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n)"
                " FROM pg_constraint c WHERE c.conrelid = ?::regclass", (table,))).fetchall()
            primary = next((tuple(cols) for kind, cols, _, _ in constraints if kind == "p"), ())
            unique = {tuple(cols) for kind, cols, _, _ in constraints if kind == "u"}
            foreign = {(cols[0], ref, refcols[0]) for kind, cols, ref, refcols in constraints if kind == "f"}
            indexes = set()
            for index, cols, is_unique, partial in await db.execute(
                    "SELECT i.relname, ARRAY(SELECT a.attname FROM unnest(x.indkey) WITH ORDINALITY k(n, o)"
                    " JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.n ORDER BY k.o),"
                    " x.indisunique, x.indpred IS NOT NULL FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid"
                    " WHERE x.indrelid = ?::regclass AND NOT EXISTS"
                    " (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)", (table,)):
                indexes.add((index, tuple(cols), is_unique, partial))
            triggers, truncate = set(), set()
            for name, kind, conditional, body in await db.execute(
                    "SELECT t.tgname, t.tgtype, pg_get_triggerdef(t.oid) LIKE '% WHEN %', p.prosrc"
                    " FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid"
                    " WHERE t.tgrelid = ?::regclass AND NOT t.tgisinternal AND p.proname <> 'ledger_changed'",
                    (table,)):
                message = _MESSAGE.search(body)
                events = {"INSERT": 4, "DELETE": 8, "UPDATE": 16, "TRUNCATE": 32}
                for event, bit in events.items():
                    if kind & bit:
                        if event == "TRUNCATE":
                            truncate.add(message.group(1) if message else None)
                        else:
                            triggers.add((event, bool(conditional), message.group(1) if message else None))
            out["tables"][table] = {
                "columns": columns, "primary": primary, "unique": unique, "indexes": indexes, "foreign": foreign,
                "checks": sum(1 for kind, *_ in constraints if kind == "c"), "triggers": triggers,
            }
            out["truncate"][table] = truncate
        for (view,) in await db.execute("SELECT viewname FROM pg_views WHERE schemaname = current_schema()"):
            out["views"][view] = await db.columns(view)
        accounts = await db.execute("SELECT id, user_id, asset, name FROM accounts ORDER BY id")
        out["accounts"] = [tuple(r) for r in accounts]
        return out
    finally:
        await db.close()


@pytest.fixture
async def schemas(tmp_path, pg_url):  # type: ignore[no-untyped-def]
    return await _sqlite_schema(tmp_path / "parity.db"), await _postgres_schema(pg_url)


def test_both_dialects_reach_one_version():
    assert schema_sqlite.VERSION == schema_postgres.VERSION


async def test_the_same_tables_and_views(schemas):
    lite, pg = schemas
    assert sorted(lite["tables"]) == sorted(pg["tables"])
    assert lite["views"] == pg["views"]
    assert [tuple(r) for r in lite["accounts"]] == pg["accounts"]  # the system accounts each seeds
    assert all(lite["strict"][t] for t in lite["tables"]), lite["strict"]  # SQLite types enforced too


@pytest.mark.parametrize("part", ["columns", "primary", "unique", "foreign", "checks", "indexes"])
async def test_each_table_alike(schemas, part):
    lite, pg = schemas
    differ = {t: (lite["tables"][t][part], pg["tables"][t][part]) for t in lite["tables"]
              if lite["tables"][t][part] != pg["tables"][t][part]}
    assert differ == {}, f"{part} differ between schema_sqlite.py and schema_postgres.py: {differ}"


async def test_the_append_only_triggers_alike(schemas):
    lite, pg = schemas
    differ = {t: (lite["tables"][t]["triggers"], pg["tables"][t]["triggers"]) for t in lite["tables"]
              if lite["tables"][t]["triggers"] != pg["tables"][t]["triggers"]}
    assert differ == {}, f"triggers differ: {differ}"
    # SQLite has no TRUNCATE; PostgreSQL's is guarded wherever DELETE is, with the same words
    for table, data in pg["tables"].items():
        deletes = {message for event, conditional, message in data["triggers"] if event == "DELETE"}
        assert pg["truncate"][table] == deletes, table
    guarded = {t for t, d in lite["tables"].items() if d["triggers"]}
    assert {"transfers", "deliveries", "notices", "legacy_history", "audit", "gifts", "reminders",
            "broadcast_recipients"} <= guarded


async def test_postgres_announces_each_change_the_live_dashboard_watches(pg_url):
    """PostgreSQL's only triggers of its own (SQLite's dashboard polls instead): a notice on
    the journal's inserts and a broadcast's changes, sent with the commit."""
    db = await postgres.connect(pg_url)
    try:
        await schema_postgres.migrate(db)
        found = {(table, name) for table, name in await db.execute(
            "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid"
            " JOIN pg_class c ON c.oid = t.tgrelid WHERE p.proname = 'ledger_changed'")}
    finally:
        await db.close()
    assert found == {("transfers", "transfers_changed"), ("broadcasts", "broadcasts_changed")}
