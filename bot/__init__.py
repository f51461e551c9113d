"""Telegram plumbing that is not a handler: settings, bot/dispatcher factories, texts,
filters, middlewares, keyboards and the exactly-once polling loop."""
