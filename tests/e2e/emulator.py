"""A Bot API server of our own on 127.0.0.1 (aiohttp): getUpdates with real offset
semantics (an update is confirmed only by a later getUpdates with a greater offset), and
every other method served by bot.fake.FakeTelegram, which refuses what Telegram refuses.

Once the bot calls setWebhook, updates are POSTed to it instead, as Telegram does: with the
secret token header, up to max_connections at once, an update confirmed only by a 2xx answer
and sent again (after a short pause) on anything else, a refused connection included. The
webhook URL's path is posted to `targets` in turn (a load balancer in front of instances)."""

from __future__ import annotations

import asyncio
import collections
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from bot.fake import FakeTelegram, Person, Sent, Updates

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "123456:" + "E" * 35


class Emulator:
    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.telegram = FakeTelegram()
        self.updates = Updates(start=5000)
        self.pending: list[dict[str, Any]] = []
        self.redeliver: list[dict[str, Any]] = []
        self.delivered: set[int] = set()
        self.acked: set[int] = set()
        self.polls = 0
        self.closing = False
        #: faults per Bot API method, served one per call before the method runs (see `_fault`):
        #: an HTTP status (a JSON error), ("retry_after", seconds) for a 429, "html" (a proxy's
        #: HTML 502 page), "drop" (connection cut), ("redirect", url), "hang" (never answers),
        #: ("migrate", chat_id) (400 with migrate_to_chat_id)
        self.faults: dict[str, list[Any]] = {}
        #: webhook delivery: where to post (base URLs, in turn) and what each post got
        self.targets: list[str] = []
        self.results: list[tuple[int, str, int | str]] = []
        self._inflight: set[int] = set()
        self._attempts: collections.Counter[int] = collections.Counter()
        self._retry_at: dict[int, float] = {}
        self._turn = 0
        self._deliverer: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> str:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        self._deliverer = asyncio.create_task(self._deliver())
        return self.url

    async def stop(self) -> None:
        self.closing = True
        self._wake.set()
        if self._deliverer is not None:
            await self._deliverer
        if self._runner is not None:
            await self._runner.cleanup()

    # -- what users do --
    def push(self, raw: dict[str, Any]) -> dict[str, Any]:
        self.pending.append(raw)
        self._wake.set()
        return raw

    def say(self, who: Person, text: str, **kw: Any) -> dict[str, Any]:
        return self.push(self.updates.message(who, text, **kw))

    def upload(self, who: Person, caption: str, media: str = "document") -> dict[str, Any]:
        return self.push(self.updates.message(who, caption=caption, media=media, caption_entities=[
            {"type": "bot_command", "offset": 0, "length": len(caption.split()[0])}]))

    def tap(self, who: Person, message: Sent, data: str) -> dict[str, Any]:
        return self.push(self.updates.callback(who, data, message))

    def resend(self, raw: dict[str, Any]) -> None:
        """Deliver an update again, as Telegram does after a timeout (same update_id)."""
        (self.pending if self.telegram.webhook else self.redeliver).append(raw)
        self._wake.set()

    async def wait(self, predicate: Any, timeout: float = 20.0, what: str = "") -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = predicate()
            if result:
                return result
            await asyncio.sleep(0.02)
        raise AssertionError(f"timed out waiting for {what or predicate}")

    async def reply(self, chat: int, after: int, contains: str = "", timeout: float = 20.0) -> Sent:
        """The first message to `chat` after index `after` of the sent list (containing `contains`)."""
        def found() -> Sent | None:
            for s in self.telegram.sent[after:]:
                if s.chat_id == chat and contains in s.text:
                    return s
            return None
        return await self.wait(found, timeout, f"a reply to {chat} containing {contains!r}")

    async def idle(self, timeout: float = 30.0) -> None:
        """Every update pushed so far was delivered and confirmed."""
        await self.wait(lambda: not self.pending and not self.redeliver
                        and all(u in self.acked for u in self.delivered), timeout, "every update confirmed")

    # -- the HTTP side --
    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        method = request.match_info["method"]
        params: dict[str, Any] = {}
        if request.content_type.startswith("multipart/") or request.content_type == "application/x-www-form-urlencoded":
            form = await request.post()
            for key, value in form.items():
                params[key] = value if isinstance(value, str) else f"upload:{getattr(value, 'filename', key)}"
        elif request.can_read_body:
            params = {k: v if isinstance(v, str) else __import__("json").dumps(v) for k, v in (await request.json()).items()}
        params.update({k: v for k, v in request.query.items()})
        queued = self.faults.get(method)
        if queued:
            return await self._fault(request, queued.pop(0))
        if method.lower() == "getupdates":
            if self.telegram.webhook is not None:
                return web.json_response({"ok": False, "error_code": 409, "description": "Conflict: can't use"
                                          " getUpdates method while webhook is active; use deleteWebhook to delete"
                                          " the webhook first"}, status=409)
            return web.json_response({"ok": True, "result": await self._get_updates(params)})
        status, body = self.telegram.call(method, params)
        self._wake.set()  # a webhook may have been set
        return web.json_response(body, status=status)

    # -- webhook delivery --
    async def _deliver(self) -> None:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
            posts: set[asyncio.Task[None]] = set()
            while not self.closing:
                hook = self.telegram.webhook
                if hook is not None and self.targets:
                    now = time.monotonic()
                    room = hook["max_connections"] - len(self._inflight)
                    for raw in list(self.pending):
                        uid = raw["update_id"]
                        if room <= 0:
                            break
                        if uid in self._inflight or self._retry_at.get(uid, 0) > now:
                            continue
                        self._inflight.add(uid)
                        room -= 1
                        task = asyncio.create_task(self._post(session, hook, raw))
                        posts.add(task)
                        task.add_done_callback(posts.discard)
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=0.05)
                except asyncio.TimeoutError:
                    pass
            for task in list(posts):
                task.cancel()
            await asyncio.gather(*posts, return_exceptions=True)

    async def _post(self, session: aiohttp.ClientSession, hook: dict[str, Any], raw: dict[str, Any]) -> None:
        uid = raw["update_id"]
        target = self.targets[self._turn % len(self.targets)]
        self._turn += 1
        headers = {"X-Telegram-Bot-Api-Secret-Token": hook["secret_token"]} if hook["secret_token"] else {}
        self.delivered.add(uid)
        try:
            async with session.post(target + urlsplit(hook["url"]).path, json=raw, headers=headers) as response:
                await response.read()
                status: int | str = response.status
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            status = type(exc).__name__
        finally:
            self._inflight.discard(uid)
        self.results.append((uid, target, status))
        if isinstance(status, int) and 200 <= status < 300:
            self.acked.add(uid)
            self.pending = [u for u in self.pending if u is not raw]
            self._attempts.pop(uid, None)
        else:  # Telegram tries again later; here after a short, growing pause
            self._attempts[uid] += 1
            self._retry_at[uid] = time.monotonic() + min(0.05 * 2 ** self._attempts[uid], 1.0)
        self._wake.set()

    async def _fault(self, request: web.Request, fault: Any) -> web.StreamResponse:
        if fault == "drop":
            assert request.transport is not None
            request.transport.close()
            raise ConnectionResetError("dropped by the emulator")
        if fault == "hang":
            while not self.closing:
                await asyncio.sleep(0.1)
            raise ConnectionResetError("the emulator is closing")
        if fault == "html":
            return web.Response(status=502, content_type="text/html",
                                text="<html><body><h1>502 Bad Gateway</h1>nginx</body></html>")
        if isinstance(fault, tuple) and fault[0] == "retry_after":
            return web.json_response({"ok": False, "error_code": 429, "description":
                                      f"Too Many Requests: retry after {fault[1]}",
                                      "parameters": {"retry_after": fault[1]}}, status=429)
        if isinstance(fault, tuple) and fault[0] == "redirect":
            raise web.HTTPFound(fault[1])
        if isinstance(fault, tuple) and fault[0] == "migrate":  # the group became a supergroup
            return web.json_response({"ok": False, "error_code": 400, "description": "Bad Request: group chat was"
                                      " upgraded to a supergroup chat", "parameters": {"migrate_to_chat_id": fault[1]}},
                                     status=400)
        return web.json_response({"ok": False, "error_code": fault, "description": "Bad Gateway"}, status=fault)

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        self.polls += 1
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        timeout = float(params.get("timeout") or 0)
        if offset:
            self.acked.update(u["update_id"] for u in self.pending if u["update_id"] < offset)
            self.pending = [u for u in self.pending if u["update_id"] >= offset]
        deadline = time.monotonic() + timeout
        while True:
            if self.redeliver:
                batch, self.redeliver = self.redeliver[:limit], self.redeliver[limit:]
                return batch
            if self.pending:
                batch = self.pending[:limit]
                self.delivered.update(u["update_id"] for u in batch)
                return batch
            left = deadline - time.monotonic()
            if left <= 0 or self.closing:
                return []
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=min(left, 0.5))
            except asyncio.TimeoutError:
                pass


class BotProcess:
    """`python main.py` pointed at the emulator."""

    def __init__(self, url: str, db: Path | str, admins: str, log: Path, **env: str) -> None:
        """`db`: a database URL, or the path of a SQLite file."""
        self.env = {**os.environ, "BOT_TOKEN": TOKEN, "ADMIN_IDS": admins,
                    "DATABASE_URL": db if isinstance(db, str) else f"sqlite:///{db}",
                    "TELEGRAM_API_URL": url, "LOG_LEVEL": "INFO", "PYTHONUNBUFFERED": "1", **env}
        self.log = log
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        out = open(self.log, "ab")
        self.proc = await asyncio.create_subprocess_exec(sys.executable, str(ROOT / "main.py"), cwd=ROOT,
                                                         env=self.env, stdout=out, stderr=out)
        out.close()

    async def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        await self.proc.wait()

    async def terminate(self, timeout: float = 20.0) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.proc.wait(), timeout)

    def text(self) -> str:
        return self.log.read_text(errors="replace")
