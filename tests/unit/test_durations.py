from datetime import timedelta

import pytest

from playbook.durations import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("500ms", 0.5),
        ("10s", 10),
        ("1m30s", 90),
        ("2h", 7200),
        ("1d", 86400),
        ("PT10S", 10),
        ("PT1M30S", 90),
        ("P1DT2H", 93600),
        ("pt1m", 60),
        (5, 5),
        (2.5, 2.5),
        ("2.5", 2.5),
        ("0", 0),
        ("1h30m15s", 5415),
        ("1.5s", 1.5),
    ],
)
def test_parses(text: object, seconds: float) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "10x", "P", "PT", "-1", "1m30", "PT1H30", "ten seconds", "s"])
def test_refuses_with_help(text: str) -> None:
    with pytest.raises(ValueError) as e:
        parse_duration(text)
    assert str(e.value) == (
        f"{text!r} is not a duration; a duration is like 500ms, 10s, 1m30s, 2h, 1d, PT10S, "
        "or a number of seconds"
    )


def test_refuses_negative_numbers_and_other_types() -> None:
    with pytest.raises(ValueError, match=r"^-1 is negative; a duration is like"):
        parse_duration(-1)
    for value in (True, None, [1], {"s": 1}):
        with pytest.raises(ValueError, match="is not a duration"):
            parse_duration(value)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.0123, "12ms"), (3.25, "3.2s"), (42, "42s"), (125, "2m05s"), (7322, "2h02m")],
)
def test_format(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text
