"""Start the bot: `python main.py` (long polling, or the webhook when WEBHOOK_URL is set) or
`python main.py --console` (offline). What is built from the settings is app.py's."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys

from dotenv import load_dotenv

from bot.config import TOKEN_SHAPE, Settings, SettingsError
from economy.redact import Redactor
from web.config import WebSettings, WebSettingsError

CONSOLE_TOKEN = "1:console-mode-token-not-used-anywhere-00000"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Token economy and credit desk Telegram bot")
    parser.add_argument("--console", action="store_true", help="chat with the bot in this terminal, no Telegram")
    parser.add_argument("--env-file", default=".env", help="settings file (default: .env)")
    args = parser.parse_args(argv)
    load_dotenv(args.env_file)
    env = dict(os.environ)
    if args.console and not env.get("BOT_TOKEN", "").strip():
        env["BOT_TOKEN"] = CONSOLE_TOKEN
    # The token and any password in a URL never reach a log line or an error message.
    secrets = [*_token_parts(env.get("BOT_TOKEN", "")), env.get("WEBHOOK_SECRET", "").strip()]
    redact = Redactor(secrets=[s for s in secrets if s], patterns=[TOKEN_SHAPE])
    try:
        settings = Settings.from_env(env)
        web = WebSettings() if args.console else WebSettings.from_env(env)
    except (SettingsError, WebSettingsError) as exc:
        print(f"error: {redact(str(exc))}", file=sys.stderr)
        return 2
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    redact.install()
    logging.getLogger("aiogram.event").setLevel(logging.WARNING)  # our middleware logs one line per update
    from economy.storage import DatabaseUnavailable, FileError
    from economy.storage.schema import SchemaMismatch
    if args.console:
        logging.getLogger().setLevel(logging.WARNING)
        from app import run_console
        runner = run_console(settings)
    else:
        from app import run
        runner = run(settings, web)
    try:
        return asyncio.run(runner)
    except (DatabaseUnavailable, SchemaMismatch) as exc:  # the URL's password is never in it
        print(f"error: {redact(str(exc))}", file=sys.stderr)
        return 2
    except FileError as exc:  # a damaged file: one line, not a traceback
        from economy.storage import open_failure
        print(f"error: {redact(open_failure(settings.database_url, exc))}", file=sys.stderr)
        return 2


def _token_parts(token: str) -> list[str]:
    """The token and its secret half (which survives the `:` being URL-encoded)."""
    token = token.strip()
    return [token, token.partition(":")[2]]


if __name__ == "__main__":
    sys.exit(main())
