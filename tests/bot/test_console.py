"""`python main.py --console`: the same dispatcher and database, typed in a terminal."""

from __future__ import annotations

import io
import subprocess
import sys

from app import run_console
from tests.bot.conftest import settings_for
from tests.test_cli import ROOT


async def test_a_console_session_plays_a_user_and_an_admin(tmp_path):
    script = "\n".join([
        "/as 1001", "/start", "/convert all", "/shop", "1", "2", "/as 9000", "/quota 1001 100",
        "/file /charge 1001 12,5 invoice", "/as 1001", "/balance", "7", "/as x", "/quit",
    ]) + "\n"
    out = io.StringIO()
    assert await run_console(settings_for(tmp_path), io.StringIO(script), out) == 0
    text = out.getvalue()
    assert "Hoş geldin" in text and "50 XP → 50 token" in text
    assert "[1] VIP statü – 25" in text and "VIP statü 25 tokene alındı. Kalan token: 25" in text
    assert "Görev boost'u (2x günlük XP) 5 tokene alındı" in text
    assert "(to 1001): [document] Kredine bir dosya ücreti yansıdı: 12,50 TL. Kalan: 87,50 TL." in text
    assert "Token: 20" in text and "no such button" in text and "usage: /as" in text


def test_main_console_runs_without_a_token(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/c.db"}
    done = subprocess.run([sys.executable, str(ROOT / "main.py"), "--console", "--env-file", str(tmp_path / "x")],
                          input="/start\n/quit\n", cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "50 XP" in done.stdout


async def test_a_second_console_session_is_not_taken_for_a_replay_of_the_first(tmp_path):
    settings = settings_for(tmp_path)
    first = "\n".join(["/as 1001", "/start", "/convert 10", "/shop", "2", "/quit"]) + "\n"
    await run_console(settings, io.StringIO(first), io.StringIO())
    second = "\n".join(["/as 1001", "/convert 10", "/shop", "2", "/as 1002", "/start", "/as 1001", "/balance",
                        "/quit"]) + "\n"
    out = io.StringIO()
    await run_console(settings, io.StringIO(second), out)
    text = out.getvalue()
    assert "kullanıldı" not in text  # "already used"
    assert "Hoş geldin" in text  # 1002's /start is a new update, not the first session's
    # 50 XP - 10 - 10 converted; 20 tokens - 2 boosts bought, one per session
    assert "XP: 30\nToken: 10" in text, text
