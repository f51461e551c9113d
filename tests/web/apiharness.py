"""The web app in process (aiohttp's test server on 127.0.0.1) with a ledger in tmp_path and
one key of each scope (`api`), or on each backend (`api_each`). Fixtures are imported by
tests/web/conftest.py."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, NamedTuple

import pytest
from aiohttp.test_utils import TestClient, TestServer

from economy import Ledger
from economy.apikeys import ApiKeys
from web.metrics import Metrics
from web.server import Health, build_web_app


class Answer(NamedTuple):
    status: int
    replayed: str | None  # the Idempotent-Replayed header, if sent
    body: Any


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

    async def send(self, path: str, body: Any, key: str, token: str | None = None) -> Answer:
        """A POST with its Idempotent-Replayed header; `token` is another API key than "write"."""
        auth = {"Authorization": f"Bearer {token}"} if token else self.auth()
        async with self.client.post(path, json=body, headers={**auth, "Idempotency-Key": key}) as r:
            return Answer(r.status, r.headers.get("Idempotent-Replayed"), await r.json(content_type=None))


@pytest.fixture
async def api(tmp_path, clock) -> AsyncIterator[Api]:
    async with serving(tmp_path / "api.db", clock) as served:
        yield served


@pytest.fixture
async def api_each(db_url, clock) -> AsyncIterator[Api]:
    """The API over a ledger on each backend (tests/conftest.py's db_url)."""
    async with serving(db_url, clock) as served:
        yield served


@asynccontextmanager
async def serving(where: Any, clock: Any) -> AsyncIterator[Api]:
    ledger = await Ledger.open(where, clock=clock)
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
