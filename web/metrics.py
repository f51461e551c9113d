"""Prometheus metrics (prometheus-client), one registry per app: updates by type and outcome,
handler latency, group commits and their sizes, refusals by kind, HTTP requests by route and
status, and the ledger's own totals (tokens minted, spent per item) read at each scrape."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from economy import Ledger
from economy.models import Stats

LATENCY = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
BATCH = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)


class Metrics:
    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.registry = CollectorRegistry()
        r = self.registry
        self.updates = Counter("bot_updates", "Telegram updates handled, by type and outcome",
                               ["type", "outcome"], registry=r)
        self.update_seconds = Histogram("bot_update_seconds", "Time to handle an update, its commit and replies"
                                        " included", ["type"], buckets=LATENCY, registry=r)
        self.refusals = Counter("economy_refusals", "Refusals of the ledger by kind, from the bot or the API",
                                ["kind", "source"], registry=r)
        self.commits = Counter("ledger_commits", "Group commits of the ledger's writer", registry=r)
        self.batch_size = Histogram("ledger_batch_size", "Write requests per group commit", buckets=BATCH, registry=r)
        self.commit_seconds = Histogram("ledger_commit_seconds", "Time of a group commit", buckets=LATENCY, registry=r)
        self.requests = Counter("http_requests", "HTTP requests by route and status",
                                ["method", "route", "status"], registry=r)
        self.request_seconds = Histogram("http_request_seconds", "HTTP request time by route", ["method", "route"],
                                         buckets=LATENCY, registry=r)
        self.stats: Stats | None = None
        r.register(_LedgerTotals(self))
        ledger.store.on_batch = self.on_batch

    def on_batch(self, size: int, seconds: float) -> None:
        self.commits.inc()
        self.batch_size.observe(size)
        self.commit_seconds.observe(seconds)

    def refused(self, kind: str, source: str) -> None:
        self.refusals.labels(kind, source).inc()

    def update_middleware(self) -> BaseMiddleware:
        """An outer middleware for the dispatcher (outside the update pipeline: it sees its
        outcome)."""
        return _UpdateMetrics(self)

    @web.middleware
    async def http_middleware(self, request: web.Request,
                              handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
        started = time.perf_counter()
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        finally:
            # The route's name or template, never the path asked for: a path may hold a secret
            # (the webhook's, e.g. /tg/<bot token>) and a scanner's random paths would each
            # be a new series.
            resource = request.match_info.route.resource
            name = "unmatched" if resource is None else resource.name or resource.canonical
            method = request.method if request.method in METHODS else "other"
            self.requests.labels(method, name, str(status)).inc()
            self.request_seconds.labels(method, name).observe(time.perf_counter() - started)

    async def handle(self, request: web.Request) -> web.Response:
        """GET /metrics: the ledger's totals are read now, the rest is counted as it happens."""
        self.stats = await self.ledger.stats()
        return web.Response(body=generate_latest(self.registry), headers={"Content-Type": CONTENT_TYPE_LATEST})


class _UpdateMetrics(BaseMiddleware):
    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    async def __call__(self, handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
                       event: TelegramObject, data: dict[str, Any]) -> Any:
        assert isinstance(event, Update)
        started = time.perf_counter()
        outcome = "cancelled"
        try:
            result = await handler(event, data)
            outcome = result if isinstance(result, str) else "ok"
            return result
        except Exception:
            outcome = "error"
            raise
        finally:
            try:
                kind = event.event_type
            except Exception:  # an update of a type aiogram does not know
                kind = "unknown"
            if outcome.startswith("refused:"):
                self.metrics.refused(outcome[8:], "bot")
                outcome = "refused"
            self.metrics.updates.labels(kind, outcome).inc()
            self.metrics.update_seconds.labels(kind).observe(time.perf_counter() - started)


class _LedgerTotals(Collector):
    """Whole-ledger figures from the last `stats()` (the same on every instance: aggregate
    them with max(), not sum())."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def collect(self) -> Iterator[Any]:
        s = self.metrics.stats
        if s is None:
            return
        yield CounterMetricFamily("economy_tokens_minted", "Tokens ever minted (XP converted)", value=s.tokens_minted)
        spent = CounterMetricFamily("economy_tokens_spent", "Tokens ever spent, by item", labels=["item"])
        for item, n in sorted(s.spent_per_item.items()):
            spent.add_metric([item], n)
        yield spent
        yield CounterMetricFamily("economy_xp_issued", "XP ever issued", value=s.xp_issued)
        yield GaugeMetricFamily("economy_tokens_in_circulation", "Tokens held by users", value=s.tokens_in_circulation)
        yield GaugeMetricFamily("economy_users", "Registered users", value=s.users)
