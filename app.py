"""Composition root: settings -> ledger -> bot and dispatcher (with the handlers' routers) ->
web app. The only module that knows every package; bot/ and web/ know neither handlers nor
each other."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from typing import TextIO

from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramBadRequest, TelegramUnauthorizedError

from bot import console
from bot.backups import backup_every
from bot.broadcast import Broadcaster
from bot.config import Settings
from bot.delivery import Deliveries
from bot.factory import build_bot
from bot.factory import build_dispatcher as _build_dispatcher
from bot.middlewares import RETRY
from bot.reminders import Reminders
from bot.runtime import poll, purge_keys_every, start, tune_interpreter, until_stopped
from economy import Ledger
from economy.broadcasts import Broadcasts
from handlers import routers
from handlers.admin import credit_notifier
from web import casts, dashboard
from web.config import WebSettings
from web.metrics import Metrics
from web.server import Health, Installer, WebServer, build_web_app, metrics_app
from web.webhook import Webhook

log = logging.getLogger("app")


def build_dispatcher(settings: Settings, ledger: Ledger, metrics: Metrics | None = None, *,
                     sole_worker: bool = True) -> Dispatcher:
    """`sole_worker`: False when webhook instances may share the database."""
    outer = [metrics.update_middleware()] if metrics is not None else []
    dp = _build_dispatcher(settings, ledger, routers(settings.admin_ids), outer, sole_worker=sole_worker)
    dp["broadcaster"] = Broadcaster(Broadcasts(ledger, settings.default_language), rate=settings.broadcast_rate,
                                    sole=sole_worker, default_language=settings.default_language)
    return dp


def web_installers(settings: Settings, ledger: Ledger, bot: Bot, deliveries: Deliveries,
                   web: WebSettings | None = None) -> list[Installer]:
    """More routes for the main web app: each installer gets the aiohttp app and adds its own.
    The admin dashboard, at /dashboard/, tells users about its credit actions through `bot`;
    its live updates and broadcasts list sit beside it at /dashboard/live/."""
    notify = credit_notifier(bot, deliveries)
    web = web or WebSettings()
    return [lambda app: dashboard.install(app, ledger, settings, notify),
            lambda app: casts.install(app, ledger, bot_token=settings.bot_token, admins=settings.admin_ids,
                                      default_language=settings.default_language,
                                      token_ttl=web.live_token_ttl, heartbeat=web.live_heartbeat)]


async def run_console(settings: Settings, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> int:
    return await console.run_console(settings, lambda ledger: build_dispatcher(settings, ledger), stdin, stdout)


async def run(settings: Settings, web: WebSettings) -> int:
    """Long polling, or the webhook when WEBHOOK_URL is set; the HTTP server (API, health,
    metrics) when WEB_PORT (or METRICS_PORT) is set. Until SIGTERM/SIGINT, then a clean stop."""
    ledger = await Ledger.open(settings.database_url, catalog=settings.catalog)
    bot = build_bot(settings)
    metrics = Metrics(ledger) if web.serves_http else None
    dp = build_dispatcher(settings, ledger, metrics, sole_worker=web.webhook_url is None)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    server: WebServer | None = None
    purger: asyncio.Task[None] | None = None
    sweeper: asyncio.Task[None] | None = None
    backups: asyncio.Task[None] | None = None
    reminder: asyncio.Task[None] | None = None
    resumer: asyncio.Task[None] | None = None
    broadcaster: Broadcaster = dp["broadcaster"]
    # Broadcasts go through a bot of their own: no RetryAfter session middleware there, so a
    # 429 reaches the broadcast's pace and holds every send, not only the chat that drew it.
    broadcaster.bot = build_bot(settings, retry_after=False)
    try:
        if await start(bot, ledger, settings, stop) is None:
            return 0
        purger = asyncio.create_task(purge_keys_every(ledger, stop))
        # Deliveries and notices nobody finished (a crash, an error, a refused record): settled
        # by this process in either mode, not only when Telegram redelivers their update.
        sweeper = asyncio.create_task(dp["deliveries"].sweep_every(bot, stop))
        if settings.backup_dir is not None:
            backups = asyncio.create_task(backup_every(ledger, settings.database_url, settings.backup_dir,
                                                       settings.backup_every_hours, settings.backup_keep, stop))
        # Reminders (a perk ending, a streak about to end): each recorded before it is sent,
        # so a restart or a second instance never sends one twice.
        reminders = Reminders(ledger, worker=dp["deliveries"].worker, days=settings.catalog.days,
                              default_language=settings.default_language)
        reminder = asyncio.create_task(reminders.run_every(bot, stop, settings.reminder_every))
        # Broadcasts a crash or a restart interrupted (or another instance left) go on.
        resumer = asyncio.create_task(broadcaster.resume_every(bot, stop))
        webhook = Webhook(bot, dp, web.webhook_secret, lambda outcome: outcome == RETRY) \
            if web.webhook_url and web.webhook_secret else None
        health = Health(ledger, webhook)
        if metrics is not None:
            app = build_web_app(ledger, metrics, health=health, webhook=webhook, webhook_path=web.webhook_path,
                                serve_metrics=web.metrics_port is None,
                                installers=web_installers(settings, ledger, bot, dp["deliveries"], web)) \
                if web.port is not None else None
            server = WebServer(web, app, metrics_app(metrics) if web.metrics_port is not None else None)
            try:
                await server.start()
            except OSError as exc:  # the port is taken, the address is not this machine's
                log.error("cannot listen on %s: %s", web.host if web.port else web.metrics_host, exc)
                return 1
        if webhook is None:
            await poll(bot, dp, stop)
            health.closing = True
            return 0
        if not await until_stopped(_set_webhook(bot, dp, web, stop), stop):
            return 0
        health.registered = True
        tune_interpreter()
        log.info("webhook mode: Telegram posts to %s (served at %s)", web.webhook_url, web.webhook_path)
        await stop.wait()
        # Refuse new updates with 503 (Telegram sends them again, to another instance or after
        # the restart) and leave readiness; server.stop() below keeps listening while the
        # updates in hand finish (up to WebSettings.shutdown_timeout), then cuts the rest short.
        health.closing = webhook.closing = True
        log.info("stopping after %d webhook updates", webhook.handled)
        return 0
    except TelegramUnauthorizedError:
        log.error("Telegram rejected BOT_TOKEN (401 Unauthorized): check it with @BotFather")
        return 2
    except TelegramBadRequest as exc:
        log.error("Telegram refused the webhook (%s): check WEBHOOK_URL", exc.message)
        return 2
    finally:
        broadcaster.closing = True  # nobody new is claimed; the sends under way finish meanwhile
        for task in (purger, sweeper, backups, reminder, resumer):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        if server is not None:
            for served in server.plan:
                if (live := served[0].get(casts.LIVE)) is not None:
                    await live.close()  # open dashboards' streams end now, not after the stop's wait
            await server.stop()
        await dp["deliveries"].close()  # one last try to record what the database refused
        await broadcaster.close(grace=2.0)
        await broadcaster.bot.session.close()
        await bot.session.close()
        await ledger.close()


async def _set_webhook(bot: Bot, dp: Dispatcher, web: WebSettings, stop: asyncio.Event) -> bool:
    """setWebhook (retried while the API does not answer); pending updates are kept."""
    delay = 1.0
    while not stop.is_set():
        try:
            await bot.set_webhook(web.webhook_url or "", secret_token=web.webhook_secret,
                                  allowed_updates=dp.resolve_used_update_types(),
                                  max_connections=web.max_connections, drop_pending_updates=False)
            return True
        except (TelegramUnauthorizedError, TelegramBadRequest):
            raise
        except Exception as exc:
            log.warning("setWebhook failed (%s); retrying in %.0fs", exc, delay)
            try:
                await asyncio.wait_for(stop.wait(), timeout=delay)
            except TimeoutError:
                pass
            delay = min(delay * 2, 30.0)
    return False
