"""Helpers for the dashboard tests: the dashboard served for real on 127.0.0.1 (its routes
installed on an aiohttp application as the bot's web server installs them), a real ledger,
notices through the in-process Bot API, and initData signed with the test bot token the way
Telegram signs it."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from aiohttp import web

from bot.config import Settings
from bot.factory import build_bot
from bot.fake import FakeTelegram, LocalSession, Person
from economy import Ledger
from bot.delivery import Deliveries
from handlers.admin import credit_notifier
from tests.conftest import Clock
from web.dashboard import install

TOKEN = "123456:" + "A" * 35
ADMIN_EN = Person(9000, "Admin", "boss", "en")
ADMIN_TR = Person(9001, "Yönetici", "patron", "tr")
STRANGER = Person(1234, "Mallory", "mallory", "en")
DAY = 86400
LIGHT = {"bg_color": "#ffffff", "text_color": "#000000", "hint_color": "#707579", "link_color": "#3390ec",
         "button_color": "#3390ec", "button_text_color": "#ffffff", "secondary_bg_color": "#f4f4f5",
         "section_bg_color": "#ffffff", "destructive_text_color": "#e53935", "accent_text_color": "#3390ec"}
DARK = {"bg_color": "#212121", "text_color": "#ffffff", "hint_color": "#aaaaaa", "link_color": "#8774e1",
        "button_color": "#8774e1", "button_text_color": "#ffffff", "secondary_bg_color": "#0f0f0f",
        "section_bg_color": "#212121", "destructive_text_color": "#ff595a", "accent_text_color": "#8774e1"}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"


def init_data(who: Person, *, token: str = TOKEN, auth_date: float | None = None, forge: bool = False,
              **extra: str) -> str:
    """initData as Telegram builds it: the fields, and `hash` = HMAC-SHA256 of the sorted
    "key=value" lines with HMAC-SHA256("WebAppData", bot token) as the key."""
    fields = {"query_id": "AAHdF6IQAAAAAN0XohDhrOrc", "user": json.dumps(who.as_dict(), separators=(",", ":")),
              "auth_date": str(int(time.time() if auth_date is None else auth_date)), **extra}
    check = "\n".join(f"{k}={v}" for k, v in sorted(fields.items()))
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    digest = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    fields["hash"] = digest[::-1] if forge else digest
    return urlencode(fields)


def fragment(data: str | None, theme: dict[str, str] | None = None) -> str:
    """The URL fragment Telegram opens a Mini App with."""
    parts = [] if data is None else [f"tgWebAppData={quote(data, safe='')}"]
    parts += ["tgWebAppVersion=8.0", "tgWebAppPlatform=android"]
    if theme is not None:
        parts.append("tgWebAppThemeParams=" + quote(json.dumps(theme), safe=""))
    return "#" + "&".join(parts)


def auth(data: str) -> dict[str, str]:
    return {"Authorization": f"tma {data}"}


@dataclass
class Site:
    ledger: Ledger
    settings: Settings
    telegram: FakeTelegram
    clock: Clock
    runner: web.AppRunner
    url: str

    def notices(self, user_id: int) -> list[str]:
        return [s.text for s in self.telegram.to(user_id)]

    async def close(self) -> None:
        await self.runner.cleanup()
        await self.ledger.close()


async def start_site(folder: Path, clock: Clock, notify: Any = None, db: str | None = None, **env: str) -> Site:
    """`db`: the ledger's URL (a SQLite file in `folder` when None)."""
    db = db or f"sqlite:///{folder}/dash.db"
    settings = Settings.from_env({"BOT_TOKEN": TOKEN, "ADMIN_IDS": f"{ADMIN_EN.id},{ADMIN_TR.id}",
                                  "DATABASE_URL": db, **env})
    ledger = await Ledger.open(db, catalog=settings.catalog, clock=clock)
    telegram = FakeTelegram(clock=clock)
    bot = build_bot(settings, LocalSession(telegram))
    app = web.Application()
    install(app, ledger, settings, notify or credit_notifier(
        bot, Deliveries(ledger, sole=True, default_language=settings.default_language)))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return Site(ledger, settings, telegram, clock, runner, f"http://127.0.0.1:{port}/dashboard/")


HOSTILE = "<script>window.pwned=1</script><img src=x onerror=pwned=2>"  # within the 64 kept


async def seed(ledger: Ledger, clock: Clock) -> dict[str, Any]:
    """A small community over the last month: purchases on several days, quotas and charges,
    and a user whose name is markup."""
    people = [(1001, "alice", "Alice", "en"), (1002, "ayse", "Ayşe", "tr"), (1003, None, "Bob", "de"),
              (1004, "mehmet", "Mehmet Yılmaz", "tr"), (1005, "evil", HOSTILE, "en")]
    clock.advance(-30 * DAY)
    for uid, uname, name, lang in people:
        await ledger.register(uid, username=uname, first_name=name, language=lang)
        await ledger.grant(uid, 400, reason="weekly tasks")
    clock.advance(30 * DAY)
    plan = [(27, 1001, "boost"), (20, 1002, "vip"), (14, 1004, "badge"), (9, 1005, "vip"), (5, 1001, "dm"),
            (2, 1002, "boost"), (0, 1004, "boost"), (0, 1005, "badge")]
    for back, uid, item in plan:
        clock.advance(-back * DAY)
        await ledger.convert(uid, 60)
        await ledger.buy(uid, item)
        clock.advance(back * DAY)
    await ledger.add_content("video1", title="Video", media="document", file_ref="f")
    await ledger.buy(1002, "content", "video1")
    for uid, quota, used in ((1001, 100_000, 30_000), (1002, 250_000, 200_000), (1004, 50_000, 0),
                             (1005, 10_000, 2_500)):
        await ledger.raise_quota(uid, quota, actor=ADMIN_EN.id)
        if used:
            await ledger.charge(uid, used, actor=ADMIN_EN.id, note="invoice")
    return {"people": people}
