import pytest

from economy import InvalidAmount, format_money, parse_money, parse_units
from economy.amounts import MAX_AMOUNT, check_amount


@pytest.mark.parametrize("text, value", [("1", 1), ("12", 12), (" 70 ", 70), ("007", 7), (str(MAX_AMOUNT), MAX_AMOUNT)])
def test_units_accepts_plain_positive_integers(text, value):
    assert parse_units(text) == value


@pytest.mark.parametrize("text", [
    "", " ", "0", "-5", "+5", "1e3", "0x10", "10.5", "1_000", "١٢", "１２", "²", "nan", "inf",
    "99999999999999999999999", str(MAX_AMOUNT + 1), "5 5", "abc", None,
])
def test_units_rejects_everything_else(text):
    with pytest.raises(InvalidAmount):
        parse_units(text)


@pytest.mark.parametrize("text, kurus", [("1000", 100_000), ("12.5", 1250), ("12,50", 1250), ("0.01", 1), ("100.00", 10_000)])
def test_money_in_kurus(text, kurus):
    assert parse_money(text) == kurus


@pytest.mark.parametrize("text", ["10.555", "0", "0.00", "-1", "1e3", ".5", "5.", "١٢", "１２", "1.2.3", "nan", "0x10", ""])
def test_money_rejects(text):
    with pytest.raises(InvalidAmount):
        parse_money(text)


@pytest.mark.parametrize("text, kurus", [
    ("1.000,00", 100_000), ("1,000.00", 100_000), ("12.345.678,90", 1_234_567_890), ("1,234,567.5", 123_456_750),
    ("900,01", 90_001), ("100.000,00", 10_000_000),
])
def test_money_accepts_the_bots_own_display_format(text, kurus):
    assert parse_money(text) == kurus


@pytest.mark.parametrize("text", [
    "1.000", "1,000", "1.000.00", "1,000,00", "1.000.000", "1.00,00", "1.0000,00", "1,000,000", "1.000,000",
    "1.000.00,00", "1,000.000", "1.000,00 TL", ".000,00", "1..000,00", "1.000,", "-1.000,00", "1,000.00e3",
    "١.٠٠٠,٠٠", "1.000,0٠", "１,０００.００", "0.000,00", "0,000.00",
])
def test_grouped_money_needs_consistent_groups_and_decimals(text):
    with pytest.raises(InvalidAmount):
        parse_money(text)


def test_format_money():
    assert format_money(100_000) == "1000.00"
    assert format_money(5) == "0.05"
    assert format_money(-1250) == "-12.50"


@pytest.mark.parametrize("value", [0, -1, True, 1.5, MAX_AMOUNT + 1, "3"])
def test_check_amount_bounds(value):
    with pytest.raises(InvalidAmount):
        check_amount(value)
