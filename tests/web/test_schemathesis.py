"""schemathesis against the running API on 127.0.0.1: every operation of the OpenAPI document,
positive and negative data, every check (no 500, responses match their schemas, status codes
and content types documented, auth enforced, bad data refused). More examples:
SCHEMATHESIS_EXAMPLES=500 python -m pytest tests/web/test_schemathesis.py"""

from __future__ import annotations

import asyncio
import os
import sys

from economy import Ledger
from economy.apikeys import ApiKeys
from web.config import WebSettings
from web.metrics import Metrics
from web.server import Health, WebServer, build_web_app

EXAMPLES = os.environ.get("SCHEMATHESIS_EXAMPLES", "60")
SEED = os.environ.get("SCHEMATHESIS_SEED", "20261129")


async def test_schemathesis_finds_nothing(tmp_path):
    ledger = await Ledger.open(tmp_path / "st.db")
    _, key = await ApiKeys(ledger.store).create("schemathesis", "write")
    # users and content for the positive cases to reach past "not found"
    await ledger.add_content("video1", title="v", media="video", file_ref="f")
    for user in range(1, 6):
        await ledger.earn(user, 1000)
        await ledger.convert(user, 500)
        await ledger.raise_quota(user, 100_000)
    server = WebServer(WebSettings(port=0), build_web_app(ledger, Metrics(ledger), health=Health(ledger, None)))
    await server.start()
    try:
        url = f"http://127.0.0.1:{server.ports[0]}/api/v1/openapi.json"
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "schemathesis.cli", "run", url, "--checks", "all", "--mode", "all",
            "-n", EXAMPLES, "--seed", SEED, "--generation-database", "none", "--no-color",
            "-H", f"Authorization: Bearer {key}", "--workers", "1", "--report-dir", str(tmp_path / "report"),
            cwd=tmp_path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        out, _ = await asyncio.wait_for(proc.communicate(), 300)
    finally:
        await server.stop()
        problems = await ledger.verify()
        await ledger.close()
    text = out.decode(errors="replace")
    assert proc.returncode == 0, text[-6000:]
    tested = [line for line in text.splitlines() if "generated" in line]
    assert tested and " 0 passed" not in tested[-1], text[-3000:]
    assert problems == []  # whatever it sent, the ledger is whole
