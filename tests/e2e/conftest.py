from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.e2e.emulator import BotProcess, Emulator


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    server = Emulator()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def bot(emu, tmp_path) -> AsyncIterator[BotProcess]:
    proc = BotProcess(emu.url, tmp_path / "e2e.db", "9000", tmp_path / "bot.log")
    await proc.start()
    try:
        yield proc
    finally:
        if proc.proc is not None and proc.proc.returncode is None:
            await proc.kill()
        print(proc.text()[-4000:])
