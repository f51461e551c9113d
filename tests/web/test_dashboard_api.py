"""The dashboard's HTTP side without a browser: who may read, what a credit action does, what
is refused, and what the page is served with."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest

from tests.conftest import Clock
from tests.web.dashsite import ADMIN_EN, ADMIN_TR, STRANGER, Site, auth, init_data, seed, start_site
from web.dashboard import STATIC

READS = ["api/overview", "api/users", "api/users?q=ali&sort=available", "api/users/1001", "api/users/999", "api/audit"]


@pytest.fixture
async def site(tmp_path) -> AsyncIterator[Site]:
    s = await start_site(tmp_path, Clock(time.time()))
    await seed(s.ledger, s.clock)
    try:
        yield s
    finally:
        await s.close()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def bad_headers() -> dict[str, tuple[int, dict[str, str]]]:
    now = time.time()
    good = init_data(ADMIN_EN)
    swapped = good.replace("%22id%22%3A9000", "%22id%22%3A9001")
    assert swapped != good
    return {
        "missing": (401, {}),
        "another scheme": (401, {"Authorization": f"Bearer {good}"}),
        "forged hash": (401, auth(init_data(ADMIN_EN, forge=True))),
        "another bot's token": (401, auth(init_data(ADMIN_EN, token="654321:" + "B" * 35))),
        "user swapped after signing": (401, auth(swapped)),
        "an hour and a minute old": (401, auth(init_data(ADMIN_EN, auth_date=now - 3660))),
        "from the future": (401, auth(init_data(ADMIN_EN, auth_date=now + 3600))),
        "too long": (401, auth(init_data(ADMIN_EN, start_param="x" * 5000))),
        "not a query string": (401, {"Authorization": "tma %%%"}),
        "not an admin": (403, auth(init_data(STRANGER))),
    }


@pytest.mark.parametrize("case", list(bad_headers()))
async def test_without_a_valid_admins_init_data_nothing_is_served(site, http, case):
    status, headers = bad_headers()[case]
    before = (await site.ledger.balance(1001), await site.ledger.stats())
    for path in READS:
        async with http.get(site.url + path, headers=headers) as r:
            assert r.status == status, path
            assert r.content_type == "application/problem+json"  # the API's convention (RFC 9457)
            body = await r.json()
            assert body["type"] == "/api/v1/problems/" + ("unauthorized" if status == 401 else "forbidden")
            assert body["status"] == status and body["detail"] and set(body) == {"type", "title", "status", "detail"}
    async with http.post(site.url + "api/users/1001/credit", headers=headers,
                         json={"action": "raise", "amount": "10", "key": "k" * 32}) as r:
        assert r.status == status
    assert (await site.ledger.balance(1001), await site.ledger.stats()) == before
    assert site.notices(1001) == []


async def test_an_admin_reads_the_overview_users_and_a_card(site, http):
    headers = auth(init_data(ADMIN_TR))
    async with http.get(site.url + "api/overview", headers=headers) as r:
        assert r.status == 200 and r.headers["Cache-Control"] == "no-store"
        overview = await r.json()
    stats = await site.ledger.stats()
    assert overview["lang"] == "tr" and overview["admin"] == {"id": ADMIN_TR.id, "name": ADMIN_TR.first_name}
    assert overview["stats"]["credit_quota"] == "4100.00" and stats.credit_quota == 410_000  # money as the API's
    assert overview["stats"]["spent_per_item"] == stats.spent_per_item
    assert [d["earned"] for d in overview["days"]] == [d.earned for d in await site.ledger.daily_tokens(30)]
    assert [t["id"] for t in overview["top"]] == [s.user_id for s in await site.ledger.top_spenders(10)]
    async with http.get(site.url + "api/users?sort=available", headers=headers) as r:
        assert [u["id"] for u in (await r.json())["users"]] == [1001, 1002, 1004, 1005]  # 700, 500, 500 (by id), 75 TL
    async with http.get(site.url + "api/users/1002?page=0", headers=headers) as r:
        card = await r.json()
    assert (card["name"], card["quota"], card["used"], card["vip"], card["content"]) == \
        ("Ayşe", "2500.00", "2000.00", True, ["video1"])
    assert card["history"]["entries"][0]["kind"] == "file_charge" and card["history"]["entries"][0]["delta"] == -200_000


async def _act(http, site, body, who=ADMIN_EN) -> tuple[int, dict]:
    async with http.post(site.url + "api/users/1002/credit", headers=auth(init_data(who)), json=body) as r:
        return r.status, await r.json()


async def test_the_same_click_twice_changes_the_ledger_once_and_tells_the_user_once(site, http):
    body = {"action": "raise", "amount": "150,50", "key": "a" * 32}
    first = await _act(http, site, body)
    again = await _act(http, site, body)
    assert first[0] == again[0] == 200
    assert first[1]["quota"] == again[1]["quota"] == "2650.50" and (first[1]["replayed"], again[1]["replayed"]) == (False, True)
    assert (await site.ledger.balance(1002)).credit_quota == 265_050
    assert site.notices(1002) == ["Kredi kotan 150,50 TL artırıldı. Kalan: 650,50 TL."]
    # the same key for another amount is a conflict; a new click (new key) applies again
    assert (await _act(http, site, {**body, "amount": "1"}))[0] == 409
    assert (await _act(http, site, {**body, "key": "b" * 32}))[1]["quota"] == "2801.00"
    assert len(site.notices(1002)) == 2


async def test_lower_and_refund_are_the_quota_and_refund_operations(site, http):
    status, lowered = await _act(http, site, {"action": "lower", "amount": "100", "key": "c" * 32})
    assert status == 200 and (lowered["quota"], lowered["used"]) == ("2400.00", "2000.00")
    status, refunded = await _act(http, site, {"action": "refund", "amount": "25.5", "key": "d" * 32})
    assert status == 200 and (refunded["used"], refunded["available"]) == ("1974.50", "425.50")
    assert site.notices(1002) == ["Kredi kotan 100,00 TL düşürüldü. Kalan: 400,00 TL.",
                                  "Kredine 25,50 TL iade edildi. Kalan: 425,50 TL."]
    card = (await site.ledger.history(1002, 0, 2)).items
    assert [(e.kind, e.actor, e.ref) for e in card] == [("usage_remove", ADMIN_EN.id, "dashboard"),
                                                        ("quota_decrease", ADMIN_EN.id, "dashboard")]


async def test_refusals_change_nothing_and_do_not_burn_the_key(site, http):
    before = await site.ledger.balance(1002)
    status, body = await _act(http, site, {"action": "lower", "amount": "600", "key": "e" * 32})
    assert status == 409 and body["type"] == "/api/v1/problems/quota-below-usage"
    assert (body["refusal"], body["amount"], body["quota"], body["used"]) == \
        ("QuotaBelowUsage", "600.00", "2500.00", "2000.00")
    status, body = await _act(http, site, {"action": "refund", "amount": "2000.01", "key": "e" * 32})
    assert (status, body["refusal"], body["used"]) == (409, "RefundTooLarge", "2000.00")
    assert await site.ledger.balance(1002) == before and site.notices(1002) == []
    assert (await _act(http, site, {"action": "refund", "amount": "1", "key": "e" * 32}))[0] == 200


@pytest.mark.parametrize("body, status", [
    ({"action": "raise", "amount": "-5", "key": "f" * 32}, 422),  # invalid-amount, as the API
    ({"action": "raise", "amount": "1e3", "key": "f" * 32}, 422),  # invalid-amount, as the API
    ({"action": "raise", "amount": "１２", "key": "f" * 32}, 422),  # invalid-amount, as the API
    ({"action": "raise", "amount": "0", "key": "f" * 32}, 422),  # invalid-amount, as the API
    ({"action": "raise", "amount": "99999999999999", "key": "f" * 32}, 422),  # invalid-amount, as the API
    ({"action": "raise", "amount": 5, "key": "f" * 32}, 400),
    ({"action": "grant", "amount": "5", "key": "f" * 32}, 400),
    ({"action": "raise", "amount": "5", "key": "short"}, 400),
    ({"action": "raise", "amount": "5", "key": "f" * 32, "note": "x"}, 400),
    ({"action": "raise", "amount": "5"}, 400),
    ([1, 2], 400),
])
async def test_bad_actions_are_refused_before_the_ledger(site, http, body, status):
    before = await site.ledger.stats()
    async with http.post(site.url + "api/users/1002/credit", headers=auth(init_data(ADMIN_EN)), json=body) as r:
        assert r.status == status and r.content_type == "application/problem+json"
        assert (await r.json())["status"] == status
    assert await site.ledger.stats() == before


async def test_bad_requests_get_4xx_never_500(site, http):
    headers = auth(init_data(ADMIN_EN))
    for path, status in (("api/users/abc", 400), ("api/users/0", 400), ("api/users/99999999999999999999", 400),
                         ("api/users/4242", 404), ("api/users?sort=name", 400), ("api/users?page=-1", 400),
                         ("api/nothing", 404)):
        async with http.get(site.url + path, headers=headers) as r:
            assert r.status == status, path
            assert r.content_type == "application/problem+json" and (await r.json())["detail"], path
    for data, status in ((b"{not json", 400), (b"x" * 5000, 413)):
        async with http.post(site.url + "api/users/1002/credit", headers={**headers, "Content-Type": "application/json"},
                             data=data) as r:
            assert r.status == status
    async with http.post(site.url + "api/users/4242/credit", headers=headers,
                         json={"action": "raise", "amount": "5", "key": "g" * 32}) as r:
        assert r.status == 404


async def test_the_page_and_its_files(site, http):
    base = site.url.rstrip("/")
    async with http.get(base, allow_redirects=False) as r:
        assert r.status == 308 and r.headers["Location"] == "/dashboard/"
    async with http.get(site.url) as r:
        assert r.status == 200 and r.content_type == "text/html"
        csp = r.headers["Content-Security-Policy"]
        assert "script-src 'self' https://telegram.org;" in csp and "'unsafe-inline'" not in csp
        assert r.headers["Referrer-Policy"] == "no-referrer"
        page = await r.text()
    for name, kind in (("app.js", "javascript"), ("texts.js", "javascript"), ("charts.js", "javascript"),
                       ("app.css", "text/css")):
        assert f"static/{name}" in page
        async with http.get(site.url + f"static/{name}") as r:
            assert r.status == 200 and kind in r.content_type
    async with http.get(site.url + "static/../dashboard.py") as r:
        assert r.status in (403, 404)


def test_no_cdn_and_no_html_from_data():
    """Every file the page needs is served by the bot, apart from Telegram's own script; data
    goes into the page as text."""
    files = {p.name: p.read_text() for p in STATIC.iterdir()}
    urls = {u for text in files.values() for u in re.findall(r"https?://[^\s\"')]+", text)}
    assert urls == {"https://telegram.org/js/telegram-web-app.js", "http://www.w3.org/2000/svg"}
    for name, text in files.items():
        assert "innerHTML" not in text and "insertAdjacentHTML" not in text and "document.write" not in text, name


async def test_a_failed_notice_does_not_turn_a_made_change_into_an_error(tmp_path, http):
    async def broken(change) -> None:
        raise RuntimeError("Telegram is down")

    site = await start_site(tmp_path, Clock(time.time()), notify=broken)
    try:
        await seed(site.ledger, site.clock)
        status, body = await _act(http, site, {"action": "raise", "amount": "1", "key": "h" * 32})
        assert status == 200 and body["quota"] == "2501.00" and (await site.ledger.balance(1002)).credit_quota == 250_100
    finally:
        await site.close()


async def test_on_the_bots_server_the_dashboard_keeps_its_problems_and_one_client_reads_both(tmp_path, http):
    """Mounted on the real web server (whose error middleware once turned the dashboard's 400s into
    a bare "Bad Request"), the dashboard answers as /api/v1 does: problem documents with their
    detail, money as strings, the same figures."""
    from aiohttp.test_utils import TestClient, TestServer

    from economy.apikeys import ApiKeys
    from web.dashboard import install
    from web.metrics import Metrics
    from web.server import Health, build_web_app

    site = await start_site(tmp_path, Clock(time.time()))
    await seed(site.ledger, site.clock)
    ledger = site.ledger
    key = (await ApiKeys(ledger.store).create("reader", "read"))[1]
    app = build_web_app(ledger, Metrics(ledger), health=Health(ledger, None),
                        installers=[lambda a: install(a, ledger, site.settings, lambda change: _nothing())])
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    try:
        admin = auth(init_data(ADMIN_EN))
        async with client.get("/dashboard/api/users?page=x", headers=admin) as r:
            body = await r.json(content_type=None)
            assert r.status == 400 and r.content_type == "application/problem+json"
            assert body["type"] == "/api/v1/problems/invalid-request" and "page" in body["detail"]
        async with client.post("/dashboard/api/users/1002/credit", headers=admin,
                               json={"action": "lower", "amount": "600", "key": "z" * 32}) as r:
            dash = await r.json(content_type=None)
        async with client.get("/dashboard/api/overview", headers=admin) as r:
            overview = await r.json()
        async with client.get("/api/v1/stats", headers={"Authorization": f"Bearer {key}"}) as r:
            stats = await r.json()
        assert dash["type"] == "/api/v1/problems/quota-below-usage" and dash["quota"] == "2500.00"
        assert overview["stats"] == stats  # one shape, money as strings in both
        async with client.get("/dashboard/api/users/1002", headers=admin) as r:
            card = await r.json()
        async with client.get("/api/v1/users/1002/balance", headers={"Authorization": f"Bearer {key}"}) as r:
            balance = await r.json()
        assert (card["quota"], card["used"], card["available"]) == \
            (balance["credit_quota"], balance["credit_used"], balance["credit_available"])
    finally:
        await client.close()
        await site.close()


async def _nothing() -> None:
    return None


async def test_the_overview_shows_the_gift_flows_of_seven_days(site, http):
    await site.ledger.gift(1002, 1001, 5)
    await site.ledger.gift(1002, 1001, 7)
    async with http.get(site.url + "api/overview", headers=auth(init_data(ADMIN_TR))) as r:
        gifts = (await r.json())["gifts"]
    assert gifts == [{"sender": 1002, "sender_name": "Ayşe", "recipient": 1001, "recipient_name": "Alice",
                      "gifts": 2, "amount": 12}]
    site.clock.advance(8 * 86400)
    async with http.get(site.url + "api/overview", headers=auth(init_data(ADMIN_TR))) as r:
        assert (await r.json())["gifts"] == []


async def test_the_overview_counts_the_communitys_days_and_names_its_zone(site, http):
    """TIMEZONE (Istanbul by default, UTC+3): the chart's days begin at local midnight (21:00
    UTC), and the page is told the zone so it shows every time and day in it."""
    async with http.get(site.url + "api/overview", headers=auth(init_data(ADMIN_TR))) as r:
        overview = await r.json()
    assert overview["timezone"] == "Europe/Istanbul"
    assert len(overview["days"]) == 30 and all(d["day"] % 86400 == 21 * 3600 for d in overview["days"])
