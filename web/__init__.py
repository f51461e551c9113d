"""The aiohttp side: Telegram's webhook, the HTTP API, health and metrics, the admin dashboard.
Imports economy and aiogram, never handlers or bot (app.py hands it a built bot and dispatcher)."""
