"""The live dashboard: server-sent events that say "something changed" within a second or two
of a commit (a purchase, a quota change, a broadcast's progress); the page then reads again
what it shows.

An EventSource cannot send headers, so the page first trades its checked initData
(`Authorization: tma ...`) for a short-lived stream token (POST /dashboard/live/token), and
the stream URL carries that token. The token is an HMAC of (admin, expiry) under a key derived
from the bot token: nothing is stored, any instance checks it. The stream sends a heartbeat
comment every LIVE_HEARTBEAT seconds and ends (event `expired`) when its token does; the page
mints another and resumes with the last event id (Last-Event-ID, or `last` in the URL for a
new EventSource), so a change in between is not missed: the id is the state it saw.

What changed is a version: (the journal's last transfer id, the sum of the broadcasts'
revisions), read cheaply. On PostgreSQL every instance LISTENs on `ledger_changes`, which the
database notifies in the same transaction as each journal insert or broadcast change (schema
v8's triggers), so several instances see every change whichever of them made it; a slow poll
backs it up. On SQLite (one machine) the version is polled twice a second.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable

from aiohttp import web

from economy import Ledger
from economy.broadcasts import version
from web.initdata import Forbidden, Unauthorized, viewer_from
from web.problems import Problem

log = logging.getLogger("web.live")

Version = tuple[int, int]
#: Seconds between two reads of the version on SQLite (and after a missed notice on PostgreSQL).
POLL = 0.5
#: Seconds between two reads on PostgreSQL without a notice (a safety net, e.g. a lost LISTEN).
BACKSTOP = 5.0


def _id(v: Version) -> str:
    return f"{v[0]}-{v[1]}"


def _parse_id(text: str | None) -> Version | None:
    try:
        a, b = (text or "").split("-")
        return int(a), int(b)
    except ValueError:
        return None


class Tokens:
    """Stream tokens: `<admin>.<expiry>.<hmac>`."""

    def __init__(self, bot_token: str, ttl: int, clock: Callable[[], float] = time.time) -> None:
        self.key = hashlib.sha256(b"live-stream:" + bot_token.encode()).digest()
        self.ttl, self.clock = ttl, clock

    def _mac(self, body: str) -> str:
        return hmac.new(self.key, body.encode(), hashlib.sha256).hexdigest()[:32]

    def mint(self, admin: int) -> tuple[str, int]:
        expires = int(self.clock()) + self.ttl
        body = f"{admin}.{expires}"
        return f"{body}.{self._mac(body)}", expires

    def check(self, token: str) -> tuple[int, int] | None:
        """(admin, expiry) of a genuine token still valid, else None."""
        parts = token.split(".") if len(token) <= 128 else []
        if len(parts) != 3 or not all(p.isascii() and p.isalnum() for p in parts):
            return None
        body = f"{parts[0]}.{parts[1]}"
        if not hmac.compare_digest(self._mac(body), parts[2]) or not parts[0].isdigit() or not parts[1].isdigit():
            return None
        admin, expires = int(parts[0]), int(parts[1])
        return (admin, expires) if expires > self.clock() else None


class Changes:
    """The version, watched: `wait(seen)` returns as soon as it differs from `seen`."""

    def __init__(self, ledger: Ledger, *, poll: float = POLL) -> None:
        self.ledger, self.poll = ledger, poll
        self.current: Version = (0, 0)
        self._changed = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None
        self.listening = False
        self.closed = False

    async def start(self) -> None:
        self.current = await self.ledger.store.read(version)
        store = self.ledger.store
        self._task = asyncio.create_task(self._listen() if store.announces_changes else self._poll(self.poll))

    async def stop(self) -> None:
        """End every wait (the streams end) and the watching."""
        self.closed = True
        async with self._changed:
            self._changed.notify_all()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def wait(self, seen: Version, timeout: float) -> Version:
        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(lambda: self.current != seen or self.closed), timeout)
            except TimeoutError:
                pass
            return self.current

    async def refresh(self) -> None:
        now = await self.ledger.store.read(version)
        if now != self.current:
            async with self._changed:
                self.current = now
                self._changed.notify_all()

    async def _poll(self, every: float) -> None:
        while True:
            try:
                await self.refresh()
            except Exception as exc:  # noqa: BLE001 - the database is busy or away: next time
                log.debug("live: version not read: %s", exc)
            await asyncio.sleep(every)

    async def _listen(self) -> None:
        """Read the version each time the store announces a change (PostgreSQL's LISTEN);
        listening again after a failure, polling slowly meanwhile."""
        backstop = asyncio.create_task(self._poll(BACKSTOP))
        try:
            while True:
                try:
                    async for _ in self.ledger.store.changes():
                        self.listening = True  # the first one comes as it starts listening
                        await self.refresh()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # noqa: BLE001 - a lost connection: listen again
                    log.warning("live: LISTEN failed (%s); again in 2s", type(exc).__name__)
                self.listening = False
                await asyncio.sleep(2.0)
        finally:
            backstop.cancel()
            await asyncio.gather(backstop, return_exceptions=True)


class Live:
    def __init__(self, ledger: Ledger, bot_token: str, admins: frozenset[int], *, ttl: int = 300,
                 heartbeat: float = 15.0, clock: Callable[[], float] = time.time) -> None:
        self.bot_token, self.admins, self.heartbeat, self.clock = bot_token, admins, heartbeat, clock
        self.tokens = Tokens(bot_token, ttl, clock)
        self.changes = Changes(ledger)
        self.closing = asyncio.Event()
        self.streams = 0

    async def token(self, request: web.Request) -> web.Response:
        try:
            viewer = viewer_from(request.headers.get("Authorization"), self.bot_token, self.admins, self.clock())
        except Unauthorized:
            return _problem("unauthorized", "Send the Mini App's initData as `Authorization: tma <initData>`.")
        except Forbidden:
            return _problem("forbidden", "Only the bot's admins see the dashboard.")
        token, expires = self.tokens.mint(viewer.user_id)
        return web.json_response({"token": token, "expires_at": expires, "heartbeat": self.heartbeat},
                                 headers={"Cache-Control": "no-store"})

    async def stream(self, request: web.Request) -> web.StreamResponse:
        checked = self.tokens.check(request.query.get("token", ""))
        if checked is None or checked[0] not in self.admins:
            return _problem("unauthorized", "The stream token is missing, forged or expired: mint another.")
        expires = checked[1]
        seen = _parse_id(request.headers.get("Last-Event-ID") or request.query.get("last"))
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store",
                                               "X-Accel-Buffering": "no"})
        await response.prepare(request)
        self.streams += 1
        try:
            now = self.changes.current
            if seen is None:  # a first connection: where it starts from
                await _send(response, "ready", now)
            elif seen != now:  # it missed something while it was away
                await _send(response, "change", now)
            seen = now
            while not self.closing.is_set():
                left = expires - self.clock()
                if left <= 0:
                    await _send(response, "expired", seen)
                    break
                now = await self.changes.wait(seen, min(self.heartbeat, left))
                if self.closing.is_set():
                    break
                if now != seen:
                    seen = now
                    await _send(response, "change", now)
                else:
                    await response.write(b": ping\n\n")
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            self.streams -= 1
        return response

    async def on_startup(self, app: web.Application) -> None:
        await self.changes.start()

    async def on_shutdown(self, app: web.Application) -> None:
        await self.close()

    async def close(self) -> None:
        """End every stream now (a stop must not wait for pages left open) and the watching."""
        self.closing.set()
        await self.changes.stop()


async def _send(response: web.StreamResponse, event: str, v: Version) -> None:
    data = json.dumps({"transfer": v[0], "broadcasts": v[1]})
    await response.write(f"id: {_id(v)}\nevent: {event}\ndata: {data}\n\n".encode())


def _problem(slug: str, detail: str) -> web.Response:
    """As the dashboard answers (its conventions: no-store, nosniff, and `tma` named on a 401)."""
    response = Problem(slug, detail).response()
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    if response.status == 401:
        response.headers["WWW-Authenticate"] = "tma"
    return response
