"""/dashboard and the admins' menu button: a web_app button to DASHBOARD_URL, for admins only."""

from __future__ import annotations

import json

import pytest

from bot.config import SettingsError
from bot.factory import set_commands
from tests.bot.conftest import ADMIN, AYSE, GROUP, running, settings_for

URL = "https://bot.example.com/dashboard/"


@pytest.fixture
async def hd(tmp_path, clock):
    async with running(tmp_path, clock, DASHBOARD_URL=URL, ADMIN_IDS=f"{ADMIN.id},9001") as harness:
        yield harness


async def test_an_admin_gets_an_inline_web_app_button(hd):
    sent = await hd.send(ADMIN, "/dashboard")
    assert len(sent) == 1 and sent[0].chat_id == ADMIN.id
    assert "dashboard" in sent[0].text
    assert sent[0].markup == [[{"text": "Open the dashboard", "web_app": {"url": URL}}]]


async def test_without_a_dashboard_url_the_admin_is_told_how_to_set_it(h):
    assert "DASHBOARD_URL" in await h.say(ADMIN, "/dashboard")


async def test_non_admins_and_groups_get_no_button(hd):
    assert await hd.say(AYSE, "/dashboard") == "Bu komut adminler içindir."
    assert await hd.send(ADMIN, "/dashboard", chat=GROUP) == []
    assert await hd.send(AYSE, "/dashboard", chat=GROUP) == []
    assert not any(b.get("web_app") for s in hd.telegram.sent for row in s.markup for b in row)


async def test_each_admin_gets_the_command_and_a_menu_button_users_do_not(hd):
    await set_commands(hd.bot, hd.settings)
    menus = hd.telegram.menu_buttons
    assert set(menus) == {ADMIN.id, 9001}
    assert all(m == {"type": "web_app", "text": "Yönetim paneli", "web_app": {"url": URL}} for m in menus.values())
    for scope, commands in hd.telegram.commands.items():
        names = {c["command"] for c in commands}
        is_admin_chat = json.loads(scope.split("|")[0]).get("type") == "chat"
        assert ("dashboard" in names) == is_admin_chat, scope


async def test_without_a_url_no_menu_button_and_no_command(h):
    await set_commands(h.bot, h.settings)
    assert h.telegram.menu_buttons == {}
    assert not any(c["command"] == "dashboard" for cs in h.telegram.commands.values() for c in cs)


@pytest.mark.parametrize("url", ["http://bot.example.com/dashboard/", "bot.example.com", "https://", "https://a b/",
                                 "javascript:alert(1)"])
def test_dashboard_url_must_be_https(tmp_path, url):
    with pytest.raises(SettingsError, match="DASHBOARD_URL"):
        settings_for(tmp_path, DASHBOARD_URL=url)


def test_a_good_dashboard_url_is_kept(tmp_path):
    assert settings_for(tmp_path, DASHBOARD_URL=URL).dashboard_url == URL
    assert settings_for(tmp_path).dashboard_url is None
