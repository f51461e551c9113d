"""DATABASE_URL in the settings: both backends' URLs accepted, anything else refused, the
password never shown."""

import pytest

from bot.config import SettingsError
from tests.bot.conftest import settings_for


@pytest.mark.parametrize("url", ["sqlite:///data/economy.db", "postgresql://economy:p4ss@db:5432/economy",
                                 "postgres://economy@127.0.0.1/economy?sslmode=require"])
def test_both_backends_urls_are_accepted(tmp_path, url):
    assert settings_for(tmp_path, DATABASE_URL=url).database_url == url


@pytest.mark.parametrize("url", ["mysql://u:p4ss@h/db", "postgresql://u:p4ss@h:5432", "postgresql://u:p4ss@h:x/db",
                                 "sqlite:/relative.db"])
def test_other_urls_are_refused_without_the_password(tmp_path, url):
    with pytest.raises(SettingsError) as info:
        settings_for(tmp_path, DATABASE_URL=url)
    assert "p4ss" not in str(info.value)


def test_the_settings_never_show_the_password(tmp_path):
    settings = settings_for(tmp_path, DATABASE_URL="postgresql://economy:p4ss@db:5432/economy")
    assert "p4ss" not in repr(settings) and "economy:***@db:5432/economy" in repr(settings)
