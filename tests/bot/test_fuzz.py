"""Hostile input through the real dispatcher: random command texts, captions, amounts and
callback data. Nothing may escape as an unhandled error, every command in a private chat gets
a reply, invalid input changes nothing, and the ledger's invariants hold throughout.
More cases: FUZZ_EXAMPLES=20000 python -m pytest tests/bot/test_fuzz.py"""

from __future__ import annotations

import asyncio
import logging
import os
import re

from hypothesis import HealthCheck, assume, given, settings, strategies as st

from bot import callbacks
from bot.fake import Person
from economy import EconomyError, parse_money, parse_units
from tests.bot.conftest import ADMIN, ALICE, Harness, settings_for
from tests.conftest import Clock, snapshot
from economy import Ledger

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "1000"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
COMMANDS = ["start", "help", "balance", "daily", "convert", "shop", "buy", "mycontent", "history", "top", "credits",
            "support", "grant", "quota", "charge", "refund", "user", "users", "stats", "export", "addcontent",
            "inbox", "reply", "nope"]
NASTY = ["-5", "0", "1e3", "0x10", "10.5", "10.555", "١٢", "１２", "99999999999999999999999", "nan", "", "+5",
         " 5", "5 ", "1_000", "Infinity", "-0", "00", "1,2,3", "<b>5</b>", "5&amp;", "\u202e5", "5\u200b"]
PLAIN = re.compile(r"[0-9]{1,20}([.,][0-9]{1,2})?", re.ASCII)
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60)
AMOUNTS = st.sampled_from(NASTY) | TEXT


def _valid(template: str, amount: str) -> bool:
    """Would the command read an amount out of this (after splitting on whitespace)? Asked of
    the parsers themselves, so a format they learn to accept (1.000,00) is not taken for hostile."""
    words = amount.split()
    first = words[0] if words else ""
    if template == "/quota 1001 {}" and first.startswith("-"):
        first = first[1:]
    if template == "/convert {}" and amount.strip().replace("İ", "i").lower() in ("all", "hepsi", "tümü"):
        return True
    for parse in (parse_money, parse_units):  # the /charge caption reads it as money too
        try:
            parse(first)
            return True
        except EconomyError:
            pass
    return bool(PLAIN.fullmatch(first))


class Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if "outcome=error" in message or record.levelno >= logging.ERROR:
            self.records.append(message)


async def _harness(tmp_path, clock) -> tuple[Harness, Errors]:
    s = settings_for(tmp_path, THROTTLE_BURST="1000000", THROTTLE_PER_MINUTE="1000000")
    ledger = await Ledger.open(tmp_path / "bot.db", catalog=s.catalog, clock=clock)
    h = Harness(s, ledger, clock)
    await h.send(ALICE, "/start")
    await ledger.grant(ALICE.id, 500)
    await ledger.convert(ALICE.id, 300)
    await ledger.raise_quota(ALICE.id, 100_000)
    errors = Errors()
    logging.getLogger("bot").addHandler(errors)
    return h, errors


async def _close(h: Harness, errors: Errors) -> None:
    logging.getLogger("bot").removeHandler(errors)
    assert await h.ledger.verify() == []
    await h.bot.session.close()
    await h.ledger.close()


def test_random_command_texts(tmp_path):
    loop = asyncio.new_event_loop()
    h, errors = loop.run_until_complete(_harness(tmp_path, Clock()))
    try:
        @FUZZ
        @given(who=st.sampled_from([ALICE, ADMIN, Person(1234, "<b>x</b>", None, None)]),
               command=st.sampled_from(COMMANDS), args=TEXT, mention=st.booleans())
        def run(who, command, args, mention):
            async def case():
                text = f"/{command}{'@' + h.telegram.username if mention else ''} {args}"
                sent = await h.send(who, text)
                assert errors.records == [], (text, errors.records)
                assert any(s.chat_id == who.id for s in sent), f"no reply to {text!r}"
            loop.run_until_complete(case())
        run()
    finally:
        loop.run_until_complete(_close(h, errors))
        loop.close()


def test_hostile_amounts_change_nothing(tmp_path):
    loop = asyncio.new_event_loop()
    h, errors = loop.run_until_complete(_harness(tmp_path, Clock()))
    try:
        @FUZZ
        @given(template=st.sampled_from(["/convert {}", "/buy content {}", "/grant 1001 {}", "/quota 1001 {}",
                                         "/quota 1001 -{}", "/refund 1001 {}", "/history {}", "/users {}"]),
               amount=AMOUNTS, caption=st.booleans())
        def run(template, amount, caption):
            assume(not _valid(template, amount))

            async def case():
                before = await snapshot(h.ledger, ALICE.id)
                text = template.format(amount)
                who = ADMIN if template.startswith(("/grant", "/quota", "/refund", "/users")) else ALICE
                sent = await h.send(who, text)
                if caption:
                    sent += await h.file(ADMIN, f"/charge 1001 {amount}")
                assert errors.records == [], (text, errors.records)
                assert sent, f"no reply to {text!r}"
                assert await snapshot(h.ledger, ALICE.id) == before, text
            loop.run_until_complete(case())
        run()
    finally:
        loop.run_until_complete(_close(h, errors))
        loop.close()


def test_forged_callback_data(tmp_path):
    loop = asyncio.new_event_loop()
    h, errors = loop.run_until_complete(_harness(tmp_path, Clock()))
    shop = loop.run_until_complete(h.send(ALICE, "/shop"))[0]
    try:
        @FUZZ
        @given(data=st.sampled_from(["b", "b:", "b:vip", "b:vip::", "c:", "c:all:x", "h:", "u:1", "m:", "m:shop:x"])
               | TEXT | st.from_regex(r"[bchum]:[^\n]{0,70}", fullmatch=True))
        def run(data):
            async def case():
                parsed = callbacks.parse(data, admin=False)
                before = await snapshot(h.ledger, ALICE.id)
                raw = h.updates.callback(ALICE, data, shop)
                await h.feed(raw)
                assert raw["callback_query"]["id"] in h.telegram.answered
                assert errors.records == [], (data, errors.records)
                if not isinstance(parsed, (callbacks.Buy, callbacks.Convert, callbacks.Menu)):
                    assert await snapshot(h.ledger, ALICE.id) == before, data
            loop.run_until_complete(case())
        run()
    finally:
        loop.run_until_complete(_close(h, errors))
        loop.close()
