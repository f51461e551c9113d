"""The dashboard from the real `python main.py`: polling with WEB_PORT set serves it next to the
API, /dashboard opens it, each admin's menu button points at it, its credit action notifies the
user through the Bot API emulator and changes the ledger once."""

from __future__ import annotations

import asyncio
import json
import time

import aiohttp

from bot.fake import Person
from tests.e2e.emulator import TOKEN, BotProcess
from tests.e2e.test_e2e import ADMIN, NEW, ask, cli
from tests.e2e.test_webhook import free_port
from tests.web.dashsite import auth, init_data

URL = "https://bot.example.test/dashboard/"


async def _until_served(base: str, proc: BotProcess, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as s:
        while time.monotonic() < deadline:
            assert proc.proc is not None and proc.proc.returncode is None, proc.text()[-2000:]
            try:
                async with s.get(base + "/readyz") as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError("the web server did not come up")


async def test_polling_with_web_port_serves_the_dashboard(emu, tmp_path):
    db, port = tmp_path / "dash.db", free_port()
    base = f"http://127.0.0.1:{port}/dashboard/"
    proc = BotProcess(emu.url, db, str(ADMIN.id), tmp_path / "bot.log", WEB_PORT=str(port), DASHBOARD_URL=URL)
    await proc.start()
    try:
        await _until_served(f"http://127.0.0.1:{port}", proc)
        assert emu.telegram.menu_buttons[ADMIN.id] == {"type": "web_app", "text": "Yönetim paneli",
                                                        "web_app": {"url": URL}}
        await ask(emu, NEW, "/start", "50")
        await ask(emu, ADMIN, "/quota 1001 100", "100")
        opened = await ask(emu, ADMIN, "/dashboard", "dashboard")
        assert opened.markup == [[{"text": "Open the dashboard", "web_app": {"url": URL}}]]
        data = init_data(Person(ADMIN.id, "Admin", "boss", "en"), token=TOKEN)
        async with aiohttp.ClientSession() as s:
            async with s.get(base) as r:
                assert r.status == 200 and "static/app.js" in await r.text()
            async with s.get(base + "api/overview", headers=auth(init_data(ADMIN, token=TOKEN, forge=True))) as r:
                assert r.status == 401
            async with s.get(base + "api/overview", headers=auth(data)) as r:
                overview = await r.json()
            cli_stats = json.loads(cli(db, "stats").stdout)
            assert overview["stats"]["credit_quota"] == cli_stats["credit_quota"] == "100.00"  # one convention
            assert overview["stats"]["users"] == cli_stats["users"] == 1
            mark = len(emu.telegram.sent)
            click = {"action": "raise", "amount": "50", "key": "e2e-" + "k" * 28}
            for _ in range(2):  # a double click
                async with s.post(base + "api/users/1001/credit", headers=auth(data), json=click) as r:
                    assert r.status == 200 and (await r.json())["quota"] == "150.00"
        notice = await emu.reply(NEW.id, mark, "artırıldı")
        assert notice.text == "Kredi kotan 50,00 TL artırıldı. Kalan: 150,00 TL."
        assert await proc.terminate() == 0
    finally:
        if proc.proc is not None and proc.proc.returncode is None:
            await proc.kill()
    assert [s.text for s in emu.telegram.to(NEW.id)].count(notice.text) == 1
    assert json.loads(cli(db, "balance", "1001").stdout)["credit_quota"] == "150.00"
    assert cli(db, "verify").returncode == 0
    audit = [json.loads(line) for line in cli(db, "audit").stdout.splitlines()]
    assert [(a["action"], a["via"], a["actor_id"], a["amount"]) for a in audit] == \
        [("quota_raise", "dashboard", ADMIN.id, "50.00"), ("quota_raise", "bot", ADMIN.id, "100.00")]  # the
    # double click audited once, after the /quota typed in the chat
    assert data not in proc.text()  # initData is never logged
