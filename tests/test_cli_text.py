"""The operator CLI refuses text the database cannot store in one line, exit 2 (issue 20,
item 6). A NUL cannot be passed in argv; a byte that is not UTF-8 arrives as a lone surrogate."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.test_cli import ROOT

NOT_UTF8 = b"bill\xffing"


def cli(*args: str | bytes) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    return subprocess.run([sys.executable, "-m", "economy", *args], cwd=ROOT, capture_output=True, env=env, check=False,
                          timeout=60)


def test_an_api_key_name_that_is_not_utf8_is_one_line_and_exit_2(db_url):
    for action in (("create", NOT_UTF8, "--scope", "read"), ("revoke", NOT_UTF8)):
        out = cli("--db", db_url, "apikey", *action)
        err = out.stderr.decode()
        assert out.returncode == 2, err
        assert err == "error: InvalidText: the name holds a character that cannot be stored (lone_surrogate):" \
                      " 'bill\ufffding'\n"
        assert out.stdout == b""
    listed = cli("--db", db_url, "apikey", "list")
    assert listed.returncode == 0 and listed.stdout.strip() == b"[]"
    made = cli("--db", db_url, "apikey", "create", "billing", "--scope", "read")
    assert made.returncode == 0, made.stderr
