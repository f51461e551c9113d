"""The dashboard's broadcasts (a list with each one's counts) and the live routes, mounted
beside the dashboard at /dashboard/live/... (web/live.py)."""

from __future__ import annotations

import time
from collections.abc import Callable

from aiohttp import web

from economy import Ledger
from economy.broadcasts import Broadcasts
from web.initdata import Forbidden, Unauthorized, viewer_from
from web.live import Live, _problem

PREFIX = "/dashboard/live"
SHOWN = 20
#: The app's Live, for the stop: its streams are ended before the server waits for requests.
LIVE = web.AppKey("live", Live)


class CastList:
    def __init__(self, casts: Broadcasts, bot_token: str, admins: frozenset[int],
                 clock: Callable[[], float] = time.time) -> None:
        self.casts, self.bot_token, self.admins, self.clock = casts, bot_token, admins, clock

    async def list(self, request: web.Request) -> web.Response:
        """The newest broadcasts first: state, segment, total and the recipients per state."""
        try:
            viewer_from(request.headers.get("Authorization"), self.bot_token, self.admins, self.clock())
        except Unauthorized:
            return _problem("unauthorized", "Send the Mini App's initData as `Authorization: tma <initData>`.")
        except Forbidden:
            return _problem("forbidden", "Only the bot's admins see the dashboard.")
        found = await self.casts.recent(SHOWN)
        return web.json_response({"broadcasts": [b.as_json() for b in found]}, headers={"Cache-Control": "no-store"})


def install(app: web.Application, ledger: Ledger, *, bot_token: str, admins: frozenset[int],
            default_language: str, token_ttl: int, heartbeat: float,
            clock: Callable[[], float] = time.time) -> Live:
    """Add the live routes and the broadcasts list to the bot's web app (next to /dashboard/)."""
    live = Live(ledger, bot_token, admins, ttl=token_ttl, heartbeat=heartbeat, clock=clock)
    casts = CastList(Broadcasts(ledger, default_language), bot_token, admins, clock)
    app.router.add_post(PREFIX + "/token", live.token)
    app.router.add_get(PREFIX + "/stream", live.stream)
    app.router.add_get(PREFIX + "/broadcasts", casts.list)
    app.on_startup.append(live.on_startup)
    app.on_shutdown.append(live.on_shutdown)
    app[LIVE] = live
    return live
