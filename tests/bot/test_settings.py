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


def test_the_engagement_settings_and_their_refusals(tmp_path):
    s = settings_for(tmp_path, TIMEZONE="UTC", STREAK_BONUS="0", STREAK_CAP="10", PRICE_FREEZE="12",
                     GIFT_DAILY_LIMIT="5", GIFT_RECEIVE_DAILY_LIMIT="7", GIFT_MIN_AGE_HOURS="0", REMINDER_EVERY="5")
    c = s.catalog
    assert (c.days.name, c.streak_bonus, c.streak_cap, c.item("freeze").price) == ("UTC", 0, 10, 12)
    assert (c.gift_daily_limit, c.gift_receive_daily_limit, c.gift_min_age_hours, s.reminder_every) == (5, 7, 0, 5)
    default = settings_for(tmp_path).catalog
    assert (default.days.name, default.streak_bonus, default.streak_cap, default.item("freeze").price) == \
        ("Europe/Istanbul", 5, 6, 10)
    assert (default.gift_daily_limit, default.gift_receive_daily_limit, default.gift_min_age_hours) == (50, 100, 72)
    for name, value, says in (("TIMEZONE", "Istanbul", "IANA"), ("STREAK_CAP", "0", "positive"),
                              ("GIFT_DAILY_LIMIT", "-1", "positive"), ("REMINDER_EVERY", "x", "positive")):
        with pytest.raises(SettingsError, match=says):
            settings_for(tmp_path, **{name: value})
