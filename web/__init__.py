"""aiohttp: the web side of the bot (the admin dashboard). Imports economy, never bot/ or handlers."""
