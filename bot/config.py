"""Settings from the environment (and `.env` through python-dotenv), validated once."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from economy.catalog import Catalog
from economy.storage import DEFAULT_URL, check_url, redact_url

TOKEN_SHAPE = re.compile(r"[0-9]{1,20}:[A-Za-z0-9_-]{30,64}", re.ASCII)
LANGUAGES = ("tr", "en")


class SettingsError(ValueError):
    """A setting is missing or malformed; the message says how to fix it."""


@dataclass(frozen=True)
class Settings:
    bot_token: str
    admin_ids: frozenset[int]
    database_url: str
    default_language: str
    telegram_api_url: str | None
    log_level: str
    catalog: Catalog
    throttle_burst: int = 20
    throttle_per_minute: int = 30
    #: the dashboard Mini App's public https address (None: no /dashboard button, no menu button)
    dashboard_url: str | None = None
    #: where the bot puts its own backups (None: it makes none), how often, and how many it keeps
    backup_dir: Path | None = None
    backup_every_hours: float = 24.0
    backup_keep: int = 7
    #: seconds between two looks for reminders due (bot/reminders.py)
    reminder_every: int = 60
    #: broadcasts: messages a second at most, overall (Telegram's limit is about 30)
    broadcast_rate: int = 25

    def __repr__(self) -> str:  # never print the token
        return f"Settings(admins={sorted(self.admin_ids)}, db={redact_url(self.database_url)!r}, api={self.telegram_api_url!r})"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        token = env.get("BOT_TOKEN", "").strip()
        if not TOKEN_SHAPE.fullmatch(token):
            raise SettingsError(
                "BOT_TOKEN is missing or malformed: ask @BotFather on Telegram for a token (/newbot),"
                " then put BOT_TOKEN=123456:ABC... in .env (see .env.example)"
            )
        admins: set[int] = set()
        for part in env.get("ADMIN_IDS", "").replace(" ", "").split(","):
            if part:
                if not part.isascii() or not part.isdigit():
                    raise SettingsError(f"ADMIN_IDS must be numeric Telegram user ids separated by commas, got {part!r}")
                admins.add(int(part))
        url = env.get("DATABASE_URL", "").strip() or DEFAULT_URL
        try:
            check_url(url)
        except ValueError as exc:
            raise SettingsError(str(exc)) from None
        language = env.get("DEFAULT_LANGUAGE", "tr").strip().lower() or "tr"
        if language not in LANGUAGES:
            raise SettingsError(f"DEFAULT_LANGUAGE must be one of {', '.join(LANGUAGES)}, got {language!r}")
        api = env.get("TELEGRAM_API_URL", "").strip() or None
        if api is not None and not re.fullmatch(r"https?://[^\s]+", api):
            raise SettingsError(f"TELEGRAM_API_URL must be an http(s) URL, got {api!r}")
        level = env.get("LOG_LEVEL", "INFO").strip().upper() or "INFO"
        if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise SettingsError(f"LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, got {level!r}")
        try:
            catalog = Catalog.from_mapping(env)
        except ValueError as exc:
            raise SettingsError(str(exc)) from None

        def positive(name: str, default: int) -> int:
            raw = env.get(name, "").strip()
            if not raw:
                return default
            if not raw.isascii() or not raw.isdigit() or int(raw) == 0:
                raise SettingsError(f"{name} must be a whole positive number, got {raw!r}")
            return int(raw)

        dashboard = env.get("DASHBOARD_URL", "").strip() or None
        if dashboard is not None and not re.fullmatch(r"https://[^\s/?#]+(/[^\s#]*)?", dashboard):
            raise SettingsError(f"DASHBOARD_URL must be an https:// URL (Telegram opens Mini Apps over https only),"
                                f" got {dashboard!r}")
        backup_dir = env.get("BACKUP_DIR", "").strip() or None
        every_raw = env.get("BACKUP_EVERY_HOURS", "").strip() or "24"
        try:
            every = float(every_raw)
        except ValueError:
            every = -1.0
        if not (every_raw.replace(".", "", 1).isascii() and every_raw.replace(".", "", 1).isdigit()) \
                or not 0.01 <= every <= 8760:
            raise SettingsError(f"BACKUP_EVERY_HOURS must be a number of hours from 0.01 to 8760, got {every_raw!r}")
        return cls(
            bot_token=token, admin_ids=frozenset(admins), database_url=url, default_language=language,
            telegram_api_url=api, log_level=level, catalog=catalog,
            throttle_burst=positive("THROTTLE_BURST", 20), throttle_per_minute=positive("THROTTLE_PER_MINUTE", 30),
            dashboard_url=dashboard,
            backup_dir=Path(backup_dir) if backup_dir else None, backup_every_hours=every,
            backup_keep=positive("BACKUP_KEEP", 7), reminder_every=positive("REMINDER_EVERY", 60),
            broadcast_rate=positive("BROADCAST_RATE", 25),
        )
