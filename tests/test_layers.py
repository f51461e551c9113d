"""Imports point one way: main -> app -> (handlers, web) -> bot -> economy. bot/ and web/
import neither handlers nor each other; economy imports none of them (nor aiogram or aiohttp)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {
    "bot": {"handlers", "web", "app", "main"},
    "web": {"handlers", "bot", "app", "main"},
    "handlers": {"web", "app", "main"},
    "economy": {"handlers", "web", "bot", "app", "main", "aiogram", "aiohttp", "prometheus_client"},
}


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_point_one_way(package):
    files = sorted((ROOT / package).rglob("*.py"))
    assert files
    wrong = {str(f.relative_to(ROOT)): sorted(imported(f) & FORBIDDEN[package]) for f in files}
    assert {f: names for f, names in wrong.items() if names} == {}
