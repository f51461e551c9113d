"""Start the bot: `python main.py` (long polling) or `python main.py --console` (offline)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys

from dotenv import load_dotenv

from bot.config import Settings, SettingsError

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
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("aiogram.event").setLevel(logging.WARNING)  # our middleware logs one line per update
    from economy.store import DatabaseUnavailable
    try:
        if args.console:
            logging.getLogger().setLevel(logging.WARNING)
            from bot.console import run_console
            return asyncio.run(run_console(settings))
        from bot.app import run
        return asyncio.run(run(settings))
    except DatabaseUnavailable as exc:  # the URL's password is never in it
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
