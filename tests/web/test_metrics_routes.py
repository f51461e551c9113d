"""/metrics labels a request by its route's template, never by the path asked for: the webhook's
path (which may hold the bot token) is `webhook`, any path no route serves is `unmatched`, so
the unauthenticated /metrics never shows a secret and random paths add no series (issue 20,
item 17)."""

from __future__ import annotations

import re

from aiogram import Bot, Dispatcher
from aiohttp.test_utils import TestClient, TestServer

from bot.fake import FakeTelegram, LocalSession, Person, Updates
from economy import Ledger
from web.metrics import Metrics
from web.server import Health, build_web_app
from web.webhook import SECRET_HEADER, Webhook

TOKEN = "123456:" + "M" * 35
SECRET = "hook-secret-" + "q" * 20


async def test_metrics_name_the_route_never_the_path(tmp_path):
    ledger = await Ledger.open(tmp_path / "m.db")
    dp = Dispatcher()
    dp.message()(lambda message: None)
    hook = Webhook(Bot(TOKEN, session=LocalSession(FakeTelegram())), dp, SECRET, lambda r: False)
    metrics = Metrics(ledger)
    app = build_web_app(ledger, metrics, health=Health(ledger, hook), webhook=hook, webhook_path=f"/tg/{TOKEN}")
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    try:
        update = Updates().message(Person(5), "hello")
        async with client.post(f"/tg/{TOKEN}", json=update, headers={SECRET_HEADER: SECRET}) as r:
            assert r.status == 200
        async with client.post(f"/tg/{TOKEN}", json=update, headers={SECRET_HEADER: "wrong"}) as r:
            assert r.status == 401
        async with client.get(f"/tg/{TOKEN}") as r:
            assert r.status == 405
        for n in range(30):  # a scanner's random paths, the token among them
            async with client.get(f"/probe-{n}/{TOKEN}{n}") as r:
                assert r.status == 404
        async with client.get("/api/v1/users/42/balance") as r:
            assert r.status == 401
        async with client.get("/metrics") as r:
            text = await r.text()
    finally:
        await client.close()
        await ledger.close()
    assert TOKEN not in text and TOKEN.split(":")[1] not in text and SECRET not in text
    assert "probe-" not in text
    routes = set(re.findall(r'http_requests_total\{[^}]*route="([^"]*)"', text))
    assert routes == {"webhook", "unmatched", "/api/v1/users/{user_id}/balance"}, routes
    assert 'http_requests_total{method="POST",route="webhook",status="200"} 1.0' in text
    assert 'http_requests_total{method="POST",route="webhook",status="401"} 1.0' in text
    assert 'http_requests_total{method="GET",route="unmatched",status="404"} 30.0' in text
