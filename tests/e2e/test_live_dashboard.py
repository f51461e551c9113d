"""The live dashboard in Chromium against the real `python main.py` (polling, WEB_PORT): with
the page open, a purchase made through the bot shows on it within 2 seconds without a reload,
and so does a broadcast's progress, over server-sent events."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path

from playwright.async_api import async_playwright

from tests.e2e.emulator import TOKEN, BotProcess
from tests.e2e.test_dashboard import _until_served
from tests.e2e.test_e2e import ADMIN, POWER, ask
from tests.e2e.test_webhook import free_port
from tests.web.dashsite import fragment, init_data
from tests.web.test_dashboard_browser import ARGS, CHROMIUM, until

NO_THROTTLE = {"THROTTLE_BURST": "1000000", "THROTTLE_PER_MINUTE": "1000000"}


async def test_a_purchase_through_the_bot_shows_without_reload(emu, tmp_path) -> None:
    port = free_port()
    proc = BotProcess(emu.url, tmp_path / "live.db", str(ADMIN.id), tmp_path / "bot.log", WEB_PORT=str(port),
                      **NO_THROTTLE)
    await proc.start()
    assert Path(CHROMIUM).exists()
    try:
        await _until_served(f"http://127.0.0.1:{port}", proc)
        await ask(emu, ADMIN, "/start")
        await ask(emu, POWER, "/start", "50 XP")
        await ask(emu, ADMIN, f"/grant {POWER.id} 950", "Granted")
        await ask(emu, POWER, "/convert 500", "500")
        async with async_playwright() as p:
            context = await p.chromium.launch_persistent_context(
                str(tmp_path / "profile"), executable_path=CHROMIUM, headless=True, args=ARGS)
            await context.route(re.compile(r"^(?!http://127\.0\.0\.1:)"), lambda route: route.abort())
            page = await context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            loads: list[str] = []
            page.on("load", lambda _: loads.append("load"))
            await page.goto(f"http://127.0.0.1:{port}/dashboard/" + fragment(init_data(ADMIN, token=TOKEN)))
            await until(page, "document.body.dataset.state === 'ready'")
            await until(page, "document.getElementById('live') && document.getElementById('live').dataset.live === 'on'")
            spent = "document.querySelector('#economy [data-stat=tokens_spent]').dataset.value"
            assert await page.evaluate(spent) == "0"
            await page.evaluate("window.stayed = true")

            reply = await ask(emu, POWER, "/buy boost", "")  # the bot's answer comes after the commit
            bought = time.monotonic()
            await until(page, f"{spent} !== '0'", timeout=5)
            took = time.monotonic() - bought
            assert took < 2, f"the purchase showed after {took:.2f}s"
            assert reply is not None and int(await page.evaluate(spent)) > 0
            top = await page.locator("#top li").first.get_attribute("data-id")
            assert top == str(POWER.id)

            # a broadcast's progress shows too
            mark = len(emu.telegram.sent)
            emu.say(ADMIN, "/broadcast all Live news")
            preview = await emu.reply(ADMIN.id, mark, "recipients")
            emu.tap(ADMIN, preview, next(d for t, d in preview.buttons() if "Send" in t))
            await until(page, "document.querySelector('#broadcast-list li[data-state=done]') !== null", timeout=10)
            counts = await page.locator("#broadcast-list li[data-state=done] .counts").text_content()
            assert "reached 2" in counts
            assert await page.evaluate("window.stayed") is True and loads == ["load"]  # never reloaded
            assert await page.evaluate("window.DashLive.events") >= 2
            assert errors == [], errors
            # a stop with the page still open: its stream ends at once, nothing waits for it
            stopping = time.monotonic()
            assert await proc.terminate() == 0
            assert time.monotonic() - stopping < 5 and "cut short" not in proc.text()
            await context.close()
    finally:
        if proc.proc is not None and proc.proc.returncode is None:
            await proc.kill()
    await asyncio.sleep(0)
