"""The web app in process (aiohttp's test server on 127.0.0.1) with a ledger in tmp_path and
one key of each scope. Fixtures are imported by the test modules (tests/web/ is shared with
the dashboard's tests, so there is no conftest here)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from economy import Ledger
from economy.apikeys import ApiKeys
from web.metrics import Metrics
from web.server import Health, build_web_app


class Api:
    def __init__(self, client: TestClient, ledger: Ledger, keys: dict[str, str], health: Health) -> None:
        self.client, self.ledger, self.keys, self.health = client, ledger, keys, health
        self.n = 0

    def auth(self, scope: str = "write") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[scope]}"}

    async def get(self, path: str, scope: str = "read", **kw: Any) -> tuple[int, Any]:
        async with self.client.get(path, headers=self.auth(scope), **kw) as r:
            return r.status, await r.json(content_type=None)

    async def post(self, path: str, body: Any, key: str | None = None, scope: str = "write",
                   headers: dict[str, str] | None = None) -> tuple[int, Any]:
        if key is None:
            self.n += 1
            key = f"k{self.n}"
        h = {**self.auth(scope), "Idempotency-Key": key, **(headers or {})}
        async with self.client.post(path, json=body, headers=h) as r:
            return r.status, await r.json(content_type=None)


@pytest.fixture
async def api(tmp_path, clock) -> AsyncIterator[Api]:
    ledger = await Ledger.open(tmp_path / "api.db", clock=clock)
    keys = ApiKeys(ledger.store)
    made = {scope: (await keys.create(scope, scope))[1] for scope in ("read", "write")}
    metrics = Metrics(ledger)
    health = Health(ledger, None)
    client = TestClient(TestServer(build_web_app(ledger, metrics, health=health), host="127.0.0.1"))
    await client.start_server()
    try:
        yield Api(client, ledger, made, health)
    finally:
        await client.close()
        await ledger.close()
