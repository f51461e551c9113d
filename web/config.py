"""Web settings from the environment: webhook mode, the HTTP server, the metrics port."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

SECRET_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,256}", re.ASCII)
HOST_SHAPE = re.compile(r"[A-Za-z0-9.:_-]{1,253}", re.ASCII)
DEFAULT_PORT = 8080
RESERVED = ("/", "/healthz", "/readyz", "/metrics")


class WebSettingsError(ValueError):
    """A web setting is missing or malformed; the message says how to fix it."""


@dataclass(frozen=True)
class WebSettings:
    #: the public https URL Telegram posts to; None means long polling
    webhook_url: str | None = None
    webhook_secret: str | None = None
    host: str = "127.0.0.1"
    #: None: no HTTP server (polling without the API)
    port: int | None = None
    metrics_host: str = "127.0.0.1"
    #: None: /metrics is served on the main port (if there is one)
    metrics_port: int | None = None
    max_connections: int = 40
    shutdown_timeout: float = 8.0
    #: the live dashboard: seconds a stream token lives (the stream ends then; the page mints
    #: another), and seconds between two heartbeats on an idle stream
    live_token_ttl: int = 300
    live_heartbeat: int = 15

    def __repr__(self) -> str:  # never print the secret
        mode = f"webhook {self.webhook_url}" if self.webhook_url else "polling"
        return f"WebSettings({mode}, http={self.host}:{self.port}, metrics_port={self.metrics_port})"

    @property
    def webhook_path(self) -> str:
        return urlsplit(self.webhook_url).path if self.webhook_url else ""

    @property
    def serves_http(self) -> bool:
        return self.port is not None or self.metrics_port is not None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> WebSettings:
        env = os.environ if env is None else env
        url = env.get("WEBHOOK_URL", "").strip() or None
        secret = env.get("WEBHOOK_SECRET", "").strip() or None
        if url is not None:
            parts = urlsplit(url)
            if parts.scheme != "https" or not parts.hostname or not parts.path.startswith("/") \
                    or parts.query or parts.fragment or " " in url:
                raise WebSettingsError(f"WEBHOOK_URL must be the public https URL of the webhook, like"
                                       f" https://bot.example.com/tg/hook, got {url!r}")
            if parts.path.startswith("/api/") or parts.path in RESERVED:
                raise WebSettingsError(f"WEBHOOK_URL's path {parts.path!r} is taken by the API or health checks;"
                                       " use another, e.g. /tg/hook")
            if secret is None or not SECRET_SHAPE.fullmatch(secret):
                raise WebSettingsError("WEBHOOK_SECRET is missing or malformed: webhook mode needs 1-256 characters"
                                       " of A-Z, a-z, 0-9, _ and - (e.g. the output of"
                                       " `python -c 'import secrets; print(secrets.token_urlsafe(32))'`)")
        host = cls._host(env, "WEB_HOST")
        port = cls._port(env, "WEB_PORT")
        if url is not None and port is None:
            port = DEFAULT_PORT
        metrics_port = cls._port(env, "METRICS_PORT")
        if metrics_port is not None and metrics_port == port:
            raise WebSettingsError(f"METRICS_PORT must differ from WEB_PORT ({port}); leave it empty to serve"
                                   " /metrics on WEB_PORT")
        raw = env.get("WEBHOOK_MAX_CONNECTIONS", "").strip() or "40"
        if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= 100:
            raise WebSettingsError(f"WEBHOOK_MAX_CONNECTIONS must be a whole number from 1 to 100, got {raw!r}")
        return cls(webhook_url=url, webhook_secret=secret if url else None, host=host, port=port,
                   metrics_host=cls._host(env, "METRICS_HOST"), metrics_port=metrics_port,
                   max_connections=int(raw), live_token_ttl=cls._seconds(env, "LIVE_TOKEN_TTL", 300, 30, 86400),
                   live_heartbeat=cls._seconds(env, "LIVE_HEARTBEAT", 15, 1, 300))

    @staticmethod
    def _seconds(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
        raw = env.get(name, "").strip()
        if not raw:
            return default
        if not raw.isascii() or not raw.isdigit() or not low <= int(raw) <= high:
            raise WebSettingsError(f"{name} must be a whole number of seconds from {low} to {high}, got {raw!r}")
        return int(raw)

    @staticmethod
    def _host(env: Mapping[str, str], name: str) -> str:
        host = env.get(name, "").strip() or "127.0.0.1"
        if not HOST_SHAPE.fullmatch(host):
            raise WebSettingsError(f"{name} must be an address to listen on (127.0.0.1, 0.0.0.0, ::), got {host!r}")
        return host

    @staticmethod
    def _port(env: Mapping[str, str], name: str) -> int | None:
        raw = env.get(name, "").strip()
        if not raw:
            return None
        if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= 65535:
            raise WebSettingsError(f"{name} must be a TCP port from 1 to 65535, got {raw!r}")
        return int(raw)
