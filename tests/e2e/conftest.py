from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.conftest import BACKENDS
from tests.e2e.emulator import BotProcess, Emulator


@pytest.fixture(params=BACKENDS)
def e2e_db(request, tmp_path) -> str:
    """The bot's DATABASE_URL, once per backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'e2e.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    server = Emulator()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def bot(emu, tmp_path, e2e_db) -> AsyncIterator[BotProcess]:
    proc = BotProcess(emu.url, e2e_db, "9000", tmp_path / "bot.log")
    await proc.start()
    try:
        yield proc
    finally:
        if proc.proc is not None and proc.proc.returncode is None:
            await proc.kill()
        print(proc.text()[-4000:])
