"""Web settings: webhook mode needs a well-formed secret; ports and paths are checked once."""

from __future__ import annotations

import pytest

from web.config import WebSettings, WebSettingsError

HOOK = {"WEBHOOK_URL": "https://bot.example.com/tg/hook", "WEBHOOK_SECRET": "abc_DEF-123"}


def test_polling_by_default_and_no_server_unless_a_port_is_set():
    plain = WebSettings.from_env({})
    assert plain.webhook_url is None and not plain.serves_http and plain.host == "127.0.0.1"
    api = WebSettings.from_env({"WEB_PORT": "9000"})
    assert api.port == 9000 and api.serves_http and api.webhook_url is None
    assert WebSettings.from_env({"METRICS_PORT": "9100"}).serves_http


def test_webhook_mode_defaults_and_secret_never_shown():
    s = WebSettings.from_env(HOOK)
    assert (s.port, s.webhook_path, s.max_connections) == (8080, "/tg/hook", 40)
    assert "abc_DEF-123" not in repr(s)
    assert WebSettings.from_env({**HOOK, "WEBHOOK_SECRET": "x" * 256}).webhook_secret == "x" * 256


@pytest.mark.parametrize("env, words", [
    ({"WEBHOOK_URL": HOOK["WEBHOOK_URL"]}, "WEBHOOK_SECRET"),
    ({**HOOK, "WEBHOOK_SECRET": "x" * 257}, "WEBHOOK_SECRET"),
    ({**HOOK, "WEBHOOK_SECRET": "sp ace"}, "WEBHOOK_SECRET"),
    ({**HOOK, "WEBHOOK_SECRET": "ümlaut"}, "WEBHOOK_SECRET"),
    ({**HOOK, "WEBHOOK_URL": "http://bot.example.com/tg/hook"}, "https"),
    ({**HOOK, "WEBHOOK_URL": "https://bot.example.com/tg/hook?x=1"}, "https"),
    ({**HOOK, "WEBHOOK_URL": "https:///nohost"}, "https"),
    ({**HOOK, "WEBHOOK_URL": "https://bot.example.com/api/v1/hook"}, "taken"),
    ({**HOOK, "WEBHOOK_URL": "https://bot.example.com/metrics"}, "taken"),
    ({"WEB_PORT": "0"}, "WEB_PORT"),
    ({"WEB_PORT": "70000"}, "WEB_PORT"),
    ({"WEB_PORT": "８０"}, "WEB_PORT"),
    ({"WEB_PORT": "9000", "METRICS_PORT": "9000"}, "METRICS_PORT"),
    ({"WEB_HOST": "a b"}, "WEB_HOST"),
    ({**HOOK, "WEBHOOK_MAX_CONNECTIONS": "101"}, "WEBHOOK_MAX_CONNECTIONS"),
])
def test_bad_settings_say_what_to_fix(env, words):
    with pytest.raises(WebSettingsError, match=words):
        WebSettings.from_env(env)
