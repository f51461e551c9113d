"""The one filter that keeps secrets out of logs and error messages."""

from __future__ import annotations

import logging
import re

from economy.redact import Redactor

TOKEN = "123456:" + "S" * 35
SHAPE = re.compile(r"[0-9]{1,20}:[A-Za-z0-9_-]{30,64}")


def test_urls_passwords_and_tokens_are_masked():
    r = Redactor(secrets=[TOKEN], patterns=[SHAPE])
    assert r("postgresql://app:s3cr%40t@db:5432/economy") == "postgresql://app:***@db:5432/economy"
    assert r("postgres://:only-a-password@db/economy") == "postgres://:***@db/economy"
    assert r("host=db user=app password=hunter2 dbname=x") == "host=db user=app password=*** dbname=x"
    assert r(f"url='http://127.0.0.1:8081/bot{TOKEN}/getMe'") == "url='http://127.0.0.1:8081/bot***/getMe'"
    assert r("another token 987:" + "x" * 40 + " here") == "another token *** here"
    assert r("sqlite:///data/economy.db and http://127.0.0.1:9/x") == "sqlite:///data/economy.db and http://127.0.0.1:9/x"


def test_every_log_record_is_masked_with_its_arguments_and_traceback(caplog):
    r = Redactor(secrets=[TOKEN])
    caplog.handler.addFilter(r)
    log = logging.getLogger("test.redact")
    try:
        raise RuntimeError(f"failed at /bot{TOKEN}/sendMessage")
    except RuntimeError:
        log.exception("update %s: %s", 5, f"db postgresql://u:pw-{TOKEN[:3]}@h/d")
    caplog.handler.removeFilter(r)
    assert "S" * 35 not in caplog.text and "pw-" not in caplog.text
    assert "update 5: db postgresql://u:***@h/d" in caplog.text and "/bot***/sendMessage" in caplog.text
