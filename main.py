"""Start the bot: `python main.py` (long polling, or the webhook when WEBHOOK_URL is set) or
`python main.py --console` (offline). What is built from the settings is app.py's."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys

from dotenv import load_dotenv

from bot.config import Settings, SettingsError
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
    try:
        settings = Settings.from_env(env)
        web = WebSettings() if args.console else WebSettings.from_env(env)
    except (SettingsError, WebSettingsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("aiogram.event").setLevel(logging.WARNING)  # our middleware logs one line per update
    if args.console:
        logging.getLogger().setLevel(logging.WARNING)
        from app import run_console
        return asyncio.run(run_console(settings))
    from app import run
    return asyncio.run(run(settings, web))


if __name__ == "__main__":
    sys.exit(main())
