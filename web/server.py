"""The aiohttp application and its server: health, readiness, metrics, and (as configured) the
webhook and the API; more routes (the dashboard) are mounted by `installers`. Stopping is
graceful and bounded: the requests in hand get up to the shutdown timeout while the server still
listens (so a new update and /readyz are answered 503, not refused), then what still runs is
cut short and the server stops listening."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from aiohttp import web

from economy import Ledger
from economy.apikeys import ApiKeys
from economy.errors import EconomyError
from web.api import Api
from web.config import WebSettings
from web.metrics import Metrics
from web.problems import Problem, for_status, refusal
from web.webhook import Webhook

log = logging.getLogger("web")

#: Telegram's updates are far smaller; the API caps its own bodies lower (web.body.MAX_BODY).
MAX_REQUEST = 1024 * 1024
#: The webhook route's name: what /metrics calls it (never its path).
WEBHOOK_ROUTE = "webhook"
Installer = Callable[[web.Application], None]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
#: Seconds a request cut short at a stop may take to unwind (it is cancelled: nothing waits on
#: Telegram any more), and what aiohttp then gives a request that came in meanwhile.
CUT_SHORT = 0.5


class InFlight:
    """The requests an app is handling, so a stop can wait for them and then cut them short."""

    def __init__(self) -> None:
        self.running: set[asyncio.Task[object]] = set()
        self.idle = asyncio.Event()
        self.idle.set()

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        task = asyncio.current_task()  # aiohttp runs each request in a task of its own
        assert task is not None
        self.running.add(task)
        self.idle.clear()
        try:
            return await handler(request)
        finally:
            self.running.discard(task)
            if not self.running:
                self.idle.set()

    async def drain(self, grace: float) -> int:
        """Wait up to `grace` seconds for the requests in hand, then cancel those still running
        (their clients get no answer: Telegram sends such an update again); how many were cut."""
        try:
            await asyncio.wait_for(self.idle.wait(), max(grace, 0.0))
        except TimeoutError:
            pass
        late = list(self.running)
        for task in late:
            task.cancel()
        if late:
            try:
                await asyncio.wait_for(self.idle.wait(), CUT_SHORT)
            except TimeoutError:
                pass
        return len(late)


IN_FLIGHT = web.AppKey("in_flight", InFlight)


def application(middlewares: Iterable[Callable[..., Awaitable[web.StreamResponse]]] = (),
                **kwargs: Any) -> web.Application:
    """An aiohttp app whose requests in hand WebServer.stop waits for (and then cuts short)."""
    in_flight = InFlight()
    app = web.Application(middlewares=[in_flight.middleware, *middlewares], **kwargs)
    app[IN_FLIGHT] = in_flight
    return app


class Health:
    """/healthz: the process answers. /readyz: the database answers at this code's schema,
    the webhook (in webhook mode) is set, and the process is not shutting down."""

    def __init__(self, ledger: Ledger, webhook: Webhook | None) -> None:
        self.ledger, self.webhook = ledger, webhook
        self.registered = webhook is None
        self.closing = False

    async def healthz(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(self, request: web.Request) -> web.Response:
        checks = {"database": False, "webhook": self.registered, "accepting": not self.closing}
        try:
            checks["database"] = await self.ledger.ready()
        except Exception as exc:  # the point is to say so, not to fail
            log.warning("readiness: the database does not answer: %s", exc)
        ok = all(checks.values())
        return web.json_response({"status": "ready" if ok else "not ready", "checks": checks},
                                 status=200 if ok else 503)


def problem_middleware(metrics: Metrics) -> Callable[..., Awaitable[web.StreamResponse]]:
    @web.middleware
    async def problems(request: web.Request,
                       handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
        try:
            return await handler(request)
        except Problem as exc:
            if "refusal" in exc.extensions:  # a ledger refusal the handler worded itself
                metrics.refused(exc.extensions["refusal"], "api")
            return exc.response()
        except EconomyError as exc:
            metrics.refused(type(exc).__name__, "api")
            return refusal(exc).response()
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            return for_status(exc).response()
        except Exception:
            log.exception("%s %s failed", request.method, request.path)
            return Problem("internal-error").response()

    return problems


def build_web_app(ledger: Ledger, metrics: Metrics, *, health: Health, api: bool = True,
                  webhook: Webhook | None = None, webhook_path: str = "", serve_metrics: bool = True,
                  installers: Iterable[Installer] = ()) -> web.Application:
    """The main app. `installers` add more routes to it (e.g. the admin dashboard's)."""
    app = application([metrics.http_middleware, problem_middleware(metrics)], client_max_size=MAX_REQUEST)
    app.router.add_get("/healthz", health.healthz, allow_head=False)
    app.router.add_get("/readyz", health.readyz, allow_head=False)
    if webhook is not None:
        app.router.add_post(webhook_path, webhook.handle, name=WEBHOOK_ROUTE)  # its path may hold the token
    if api:
        app.add_routes(Api(ledger, ApiKeys(ledger.store)).routes())
    if serve_metrics:
        app.router.add_get("/metrics", metrics.handle, allow_head=False)
    for install in installers:
        install(app)
    return app


def metrics_app(metrics: Metrics) -> web.Application:
    app = application([problem_middleware(metrics)])
    app.router.add_get("/metrics", metrics.handle, allow_head=False)
    return app


class WebServer:
    """Serves `app` on WEB_HOST:WEB_PORT and `metrics` on METRICS_HOST:METRICS_PORT."""

    def __init__(self, settings: WebSettings, app: web.Application | None,
                 metrics: web.Application | None = None) -> None:
        self.settings = settings
        self.plan = [(a, host, port) for a, host, port in (
            (app, settings.host, settings.port), (metrics, settings.metrics_host, settings.metrics_port),
        ) if a is not None and port is not None]
        self.runners: list[web.AppRunner] = []
        self.ports: list[int] = []

    async def start(self) -> None:
        for app, host, port in self.plan:
            # The stop waits for the requests in hand itself (see stop()); aiohttp's own wait
            # only covers a request that came in after that.
            runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=CUT_SHORT)
            await runner.setup()
            self.runners.append(runner)
            site = web.TCPSite(runner, host, port, reuse_address=True)
            await site.start()
            self.ports.append(runner.addresses[-1][1])
            log.info("listening on http://%s:%s", host, self.ports[-1])

    async def stop(self) -> None:
        """Give the requests in hand up to the shutdown timeout while still listening (the
        caller has set `closing`: new updates and /readyz get 503), cut short what still runs,
        then stop listening. Bounded: the whole stop stays inside docker stop's 10 s."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.shutdown_timeout
        for runner in self.runners:
            in_flight = runner.app.get(IN_FLIGHT)
            if in_flight is not None and (cut := await in_flight.drain(deadline - loop.time())):
                log.warning("stopping: %d requests did not finish within %.0fs; cut short (Telegram sends"
                            " such an update again)", cut, self.settings.shutdown_timeout)
        for runner in reversed(self.runners):
            await runner.cleanup()
        self.runners.clear()
