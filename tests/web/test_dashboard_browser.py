"""The dashboard in a real browser: Debian's Chromium, headless, driven by Playwright, against
the page served on 127.0.0.1. One browser for the module; each test opens its own page.

Telegram's telegram-web-app.js is not reachable here (every request off 127.0.0.1 is aborted),
so the page reads initData from the URL fragment itself, as it must."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
from playwright.async_api import BrowserContext, Page, async_playwright

from bot.texts import money, number
from economy import format_money
from tests.conftest import Clock
from tests.web.dashsite import (
    ADMIN_EN, ADMIN_TR, DARK, HOSTILE, LIGHT, SCREENSHOTS, STRANGER, Site, auth, fragment, init_data, seed, start_site,
)

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def site(tmp_path_factory) -> AsyncIterator[Site]:
    s = await start_site(tmp_path_factory.mktemp("dash"), Clock(time.time()))
    await seed(s.ledger, s.clock)
    try:
        yield s
    finally:
        await s.close()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser(tmp_path_factory) -> AsyncIterator[BrowserContext]:
    assert Path(CHROMIUM).exists(), "install Debian's chromium: apt-get install -y chromium (.ci/run does)"
    async with async_playwright() as p:
        context = await p.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("profile")), executable_path=CHROMIUM, headless=True, args=ARGS,
            viewport=DESKTOP,
        )
        await context.route(re.compile(r"^(?!http://127\.0\.0\.1:)"), lambda route: route.abort())
        try:
            yield context
        finally:
            await context.close()


@pytest_asyncio.fixture(loop_scope="module")
async def page(browser) -> AsyncIterator[Page]:
    p = await browser.new_page()
    errors: list[str] = []
    p.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        yield p
    finally:
        await p.close()
    assert errors == [], errors


async def until(page: Page, expression: str, timeout: float = 10.0) -> None:
    """Wait until `expression` is true in the page. (Playwright's wait_for_function polls with
    eval inside the page, which the page's Content-Security-Policy rightly refuses.)"""
    deadline = time.monotonic() + timeout
    while not await page.evaluate(expression):
        assert time.monotonic() < deadline, f"timed out waiting for {expression}"
        await asyncio.sleep(0.05)


async def open_as(page: Page, site: Site, data: str | None, theme: dict[str, str] | None = None) -> str:
    """Open the dashboard as Telegram would and wait until it has data or has refused; its state."""
    await page.goto(site.url + fragment(data, theme))
    await until(page, "document.body.dataset.state !== 'loading'")
    return await page.evaluate("document.body.dataset.state")


def cli_stats(site: Site) -> dict:
    out = subprocess.run([sys.executable, "-m", "economy", "--db", site.settings.database_url, "stats"],
                         capture_output=True, text=True, check=True, timeout=60)
    return json.loads(out.stdout)


async def test_the_four_cards_and_the_economy_show_the_cli_figures(page, site):
    assert await open_as(page, site, init_data(ADMIN_EN)) == "ready"
    cli = cli_stats(site)
    for key in ("credit_quota", "credit_used", "credit_available"):
        card = page.locator(f".card[data-stat={key}]")
        assert format_money(int(await card.get_attribute("data-value"))) == cli[key]
        assert await card.locator(".value").text_content() == money(int(await card.get_attribute("data-value")), "en")
    active = page.locator(".card[data-stat=active_users]")
    assert await active.locator(".value").text_content() == str(cli["active_users"])
    assert await active.locator(".sub").text_content() == f"{cli['users']} registered · {cli['credit_users']} with a quota"
    for key in ("tokens_minted", "tokens_spent", "tokens_in_circulation", "xp_outstanding"):
        assert await page.locator(f"#economy [data-stat={key}] dd").text_content() == number(cli[key], "en"), key
    assert await page.locator(".card[data-stat=credit_quota] .label").text_content() == "Total credit quota"


async def test_a_turkish_admin_gets_turkish(page, site):
    assert await open_as(page, site, init_data(ADMIN_TR)) == "ready"
    stats = await site.ledger.stats()
    assert await page.locator(".card[data-stat=credit_quota] .label").text_content() == "Toplam kredi kotası"
    assert await page.locator(".card[data-stat=credit_quota] .value").text_content() == money(stats.credit_quota, "tr")
    assert await page.locator("html").get_attribute("lang") == "tr"
    await page.locator("#user-list .user-row[data-id='1002']").click()
    await page.wait_for_selector("#user:not([hidden])")
    lines = await page.locator("#u-history .row .name").all_text_contents()
    assert lines[:3] == ["Dosya ücreti · invoice", "Kota artışı", "Premium içerik: Video"]
    assert await page.locator("#u-history .row .num").first.text_content() == "-2.000,00 TL"
    assert await page.locator("#u-perks").inner_text() == "VIP\n1 premium içerik"
    history = await site.ledger.history(1002, 1, 10)
    assert history.pages == 2 and await page.locator("#h-page").text_content() == f"Sayfa 1/2 · {history.total} hareket"
    await page.click("#h-next")
    await until(page, "document.querySelector('#h-page').textContent.startsWith('Sayfa 2/2')")
    assert await page.locator("#u-history .row").count() == len(history.items)
    assert await page.locator("#h-next").is_disabled()


async def test_the_charts_have_a_point_per_day_and_a_bar_per_item(page, site):
    assert await open_as(page, site, init_data(ADMIN_EN)) == "ready"
    days = await site.ledger.daily_tokens(30)
    for series in ("earned", "spent"):
        dots = page.locator(f"#chart-days circle.pt.{series}")
        assert await dots.count() == 30
        values = await dots.evaluate_all("ds => ds.map(d => [+d.dataset.day, +d.dataset.value])")
        assert values == [[d.day, getattr(d, series)] for d in days]
        assert await page.locator(f"#chart-days polyline.{series}").count() == 1
    assert sum(d.spent for d in days) > 0 and sum(1 for d in days if d.earned) >= 6
    bars = await page.locator("#chart-items rect.bar").evaluate_all(
        "bs => Object.fromEntries(bs.map(b => [b.dataset.item, +b.dataset.value]))")
    assert bars == (await site.ledger.stats()).spent_per_item
    # the days' y values are drawn to scale: the biggest day is the highest point
    peak = max(range(30), key=lambda i: days[i].spent)
    ys = await page.locator("#chart-days circle.pt.spent").evaluate_all("ds => ds.map(d => +d.getAttribute('cy'))")
    assert ys[peak] == min(ys)


async def test_search_finds_a_user_and_the_list_sorts(page, site):
    assert await open_as(page, site, init_data(ADMIN_EN)) == "ready"
    rows = page.locator("#user-list .user-row")
    by_used = [u.user_id for u in (await site.ledger.search_users(order="used", per_page=10)).items]
    # the list comes after the cards ("ready"): wait for it (on a loaded machine it can come later)
    await until(page, "document.querySelectorAll('#user-list .user-row').length > 0")
    assert await rows.evaluate_all("rs => rs.map(r => +r.dataset.id)") == by_used
    await page.select_option("#sort", "available")
    by_available = [u.user_id for u in (await site.ledger.search_users(order="available", per_page=10)).items]
    await until(page, f"[...document.querySelectorAll('#user-list .user-row')].map(r => +r.dataset.id)"
                                 f".join() === '{','.join(map(str, by_available))}'")
    for text, found in (("@ayse", [1002]), ("mehmet y", [1004]), ("1001", [1001]), ("nobody here", [])):
        await page.fill("#search", text)
        await until(page,
            f"[...document.querySelectorAll('#user-list .user-row')].map(r => +r.dataset.id).join() === "
            f"'{','.join(map(str, found))}' && document.querySelector('#users-page').textContent.includes('· {len(found)} ')")
    assert await page.locator("#user-list .empty").text_content() == "No users found."


async def test_a_quota_raise_through_the_confirm_step_applies_once_even_double_clicked(page, site):
    assert await open_as(page, site, init_data(ADMIN_EN)) == "ready"
    before = await site.ledger.balance(1004)
    journal = [row async for row in site.ledger.journal()]
    await page.fill("#search", "@mehmet")
    await page.locator("#user-list .user-row[data-id='1004']").click()
    await page.wait_for_selector("#user:not([hidden])")
    assert await page.locator("#u-name").text_content() == "Mehmet Yılmaz"
    await page.fill("#amount", "150.25")
    await page.click("button[data-action=raise]")
    assert await page.locator("#confirm-text").text_content() == "Raise the quota of Mehmet Yılmaz by 150.25 TL?"
    assert await site.ledger.balance(1004) == before  # nothing before the confirm step
    await page.dblclick("#confirm-yes")
    await until(page, "document.querySelector('#action-result').classList.contains('good')")
    await until(page, f"document.querySelector('[data-f=quota]').dataset.value === "
                                 f"'{before.credit_quota + 15_025}'")
    after = await site.ledger.balance(1004)
    assert after.credit_quota == before.credit_quota + 15_025
    new = [row async for row in site.ledger.journal()][len(journal):]
    assert [(r[2], r[6], r[9]) for r in new] == [("quota_increase", 15_025, ADMIN_EN.id)]
    assert site.notices(1004) == ["Kredi kotan 150,25 TL artırıldı. Kalan: 650,25 TL."]
    assert await page.locator("#action-result").text_content() == \
        "Quota raised by 150.25 TL. Quota 650.25 TL · used 0.00 TL · available 650.25 TL"
    assert await page.locator("#u-history .row .name").first.text_content() == "Quota raised · dashboard"
    # the cards follow; cancelling a second action changes nothing
    quota_card = page.locator(".card[data-stat=credit_quota]")
    assert int(await quota_card.get_attribute("data-value")) == (await site.ledger.stats()).credit_quota
    await page.fill("#amount", "10")
    await page.click("button[data-action=lower]")
    await page.click("#confirm-no")
    assert await page.locator("#confirm").is_hidden()
    assert await site.ledger.balance(1004) == after


async def test_a_refused_action_is_explained_and_changes_nothing(page, site):
    assert await open_as(page, site, init_data(ADMIN_EN)) == "ready"
    before = await site.ledger.balance(1001)
    await page.locator("#user-list .user-row[data-id='1001']").click()
    await page.wait_for_selector("#user:not([hidden])")
    await page.fill("#amount", "12,345")
    await page.click("button[data-action=refund]")
    assert "Enter a plain positive number" in await page.locator("#action-result").text_content()
    assert await page.locator("#confirm").is_hidden()
    await page.fill("#amount", "5000")
    await page.click("button[data-action=refund]")
    await page.click("#confirm-yes")
    await until(page, "document.querySelector('#action-result').classList.contains('bad')")
    assert await page.locator("#action-result").text_content() == \
        f"A refund cannot be more than is used: used {money(before.credit_used, 'en')}."
    assert await site.ledger.balance(1001) == before and site.notices(1001) == []


async def test_the_audit_view_lists_admin_actions_and_filters_them(page, site):
    from economy.audit import Actor
    await site.ledger.grant(1003, 7, reason="<b>quiz</b>", audit_as=Actor("bot", HOSTILE, 4242))
    await site.ledger.raise_quota(1003, 1_250, audit_as=Actor("api", "crm"))
    assert await open_as(page, site, init_data(ADMIN_EN)) == "ready"
    await until(page, "document.querySelectorAll('#audit-list .audit-row').length > 0")
    await page.fill("#audit-user", "1003")
    await until(page, "[...document.querySelectorAll('#audit-list .audit-row .name')]"
                      ".every((n) => n.textContent.endsWith(' · 1003'))")
    rows = page.locator("#audit-list .audit-row")
    assert await rows.count() == 2
    first = await rows.nth(0).inner_text()
    assert "quota_raise" in first and "crm · api" in first and "12.50 TL" in first
    second = await rows.nth(1).inner_text()
    assert "grant" in second and HOSTILE in second and "<b>quiz</b>" in second and "7 XP" in second
    assert await page.evaluate("window.pwned") is None
    await page.fill("#audit-admin", "4242")
    await until(page, "document.querySelectorAll('#audit-list .audit-row').length === 1")
    assert "1 actions" in await page.locator("#audit-page").text_content()


@pytest.mark.parametrize("case", ["forged hash", "an hour and a minute old", "not an admin", "no initData"])
async def test_without_a_valid_admin_nothing_is_shown(page, site, case):
    data = {"forged hash": init_data(ADMIN_EN, forge=True),
            "an hour and a minute old": init_data(ADMIN_EN, auth_date=time.time() - 3660),
            "not an admin": init_data(STRANGER), "no initData": None}[case]
    assert await open_as(page, site, data) == "denied"
    assert await page.locator("#content").count() == 0
    body = await page.locator("body").inner_text()
    assert "admins only" in body
    stats = await site.ledger.stats()
    for figure in (money(stats.credit_quota, "en"), number(stats.tokens_minted, "en"), "Alice", "Ayşe"):
        assert figure not in body
    if data is not None:
        async with aiohttp.ClientSession() as http, http.get(site.url + "api/overview", headers=auth(data)) as r:
            assert r.status == (403 if case == "not an admin" else 401)


async def test_a_name_with_markup_shows_as_text(page, site):
    assert await open_as(page, site, init_data(ADMIN_EN)) == "ready"
    await page.fill("#search", "@evil")
    row = page.locator("#user-list .user-row[data-id='1005']")
    await row.wait_for()
    assert await row.locator(".name").text_content() == HOSTILE
    assert HOSTILE in await page.locator("#top").inner_text()
    await row.click()
    await page.wait_for_selector("#user:not([hidden])")
    assert await page.locator("#u-name").text_content() == HOSTILE
    await page.fill("#amount", "1")
    await page.click("button[data-action=raise]")
    assert HOSTILE in await page.locator("#confirm-text").text_content()
    assert await page.evaluate("window.pwned") is None
    assert await page.locator("main script, main img").count() == 0


async def test_telegram_script_when_present_gives_init_data_and_theme(browser, site):
    """Inside Telegram the script hands over initData and themeParams (here a stand-in for it)."""
    data = init_data(ADMIN_EN)
    stand_in = (f"window.Telegram = {{WebApp: {{initData: {json.dumps(data)}, themeParams: {json.dumps(DARK)},"
                " colorScheme: 'dark', ready() { window.tgReady = true; }, expand() {}, onEvent() {},"
                " isVersionAtLeast() { return true; }, setHeaderColor(c) { window.tgHeader = c; },"
                " setBackgroundColor(c) { window.tgBackground = c; }}};")
    page = await browser.new_page()
    await page.route("https://telegram.org/js/telegram-web-app.js",
                     lambda route: route.fulfill(body=stand_in, content_type="application/javascript"))
    try:
        await page.goto(site.url)
        await until(page, "document.body.dataset.state === 'ready'")
        assert await page.evaluate("[window.tgReady, window.tgHeader, window.tgBackground]") == \
            [True, "secondary_bg_color", "secondary_bg_color"]
        assert await page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(15, 15, 15)"
        assert await page.evaluate("document.documentElement.dataset.scheme") == "dark"
    finally:
        await page.close()


@pytest.mark.parametrize("size", ["desktop", "phone"])
@pytest.mark.parametrize("scheme", ["light", "dark"])
async def test_screenshots_fit_the_width_and_follow_the_theme(page, site, size, scheme):
    """Saved under build/screenshots/ on each run (README); at 360 px nothing overflows sideways."""
    viewport = PHONE if size == "phone" else DESKTOP
    await page.set_viewport_size(viewport)
    await page.emulate_media(color_scheme=scheme)
    theme = DARK if scheme == "dark" else LIGHT
    assert await open_as(page, site, init_data(ADMIN_TR if size == "phone" else ADMIN_EN), theme) == "ready"
    expected = "rgb(15, 15, 15)" if scheme == "dark" else "rgb(244, 244, 245)"
    assert await page.evaluate("getComputedStyle(document.body).backgroundColor") == expected
    await page.locator("#user-list .user-row").first.click()
    await page.wait_for_selector("#user:not([hidden])")
    await page.fill("#amount", "100")
    await page.click("button[data-action=raise]")
    assert await page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.mouse.move(0, 0)
    await page.evaluate("window.scrollTo(0, 0)")
    await page.screenshot(path=str(SCREENSHOTS / f"dashboard-{size}-{scheme}.png"), full_page=True)
