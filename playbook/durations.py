"""Durations, parsed in one place: ``500ms``, ``10s``, ``1m30s``, ``2h``, ``1d``, ISO-8601
(``PT10S``, ``P1DT2H``) or a plain number of seconds."""

from __future__ import annotations

import re
from datetime import timedelta

_UNITS = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
_COMPACT = re.compile(r"(\d+(?:\.\d+)?)(ms|d|h|m|s)")
_COMPACT_WHOLE = re.compile(r"(?:\d+(?:\.\d+)?(?:ms|d|h|m|s))+")
_ISO = re.compile(
    r"P(?:(?P<d>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<m>\d+(?:\.\d+)?)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?"
)

HELP = "a duration is like 500ms, 10s, 1m30s, 2h, 1d, PT10S, or a number of seconds"


def parse_duration(value: object) -> timedelta:
    """Turn a duration as a playbook writes it into a ``timedelta``.

    Raises ``ValueError`` with a message that says what is accepted.
    """
    try:
        delta = _parse(value)
    except OverflowError:
        raise ValueError(f"{value!r} is too long a duration; the most is {MAX_DAYS} days") from None
    if delta > timedelta(days=MAX_DAYS):
        raise ValueError(f"{value!r} is too long a duration; the most is {MAX_DAYS} days")
    return delta


MAX_DAYS = 36500


def _parse(value: object) -> timedelta:
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a duration; {HELP}")
    if isinstance(value, (int, float)):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"{value!r} is not a duration; {HELP}")
        if value < 0:
            raise ValueError(f"{value!r} is negative; {HELP}")
        return timedelta(seconds=value)
    if isinstance(value, timedelta):
        return value
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a duration; {HELP}")
    text = value.strip()
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        return timedelta(seconds=float(text))
    if _COMPACT_WHOLE.fullmatch(text):
        seconds = sum(float(n) * _UNITS[u] for n, u in _COMPACT.findall(text))
        return timedelta(seconds=seconds)
    iso = _ISO.fullmatch(text.upper())
    if iso and text.upper() not in ("P", "PT") and not text.upper().endswith("T"):
        parts = {k: float(v) for k, v in iso.groupdict().items() if v is not None}
        return timedelta(
            days=parts.get("d", 0.0),
            hours=parts.get("h", 0.0),
            minutes=parts.get("m", 0.0),
            seconds=parts.get("s", 0.0),
        )
    raise ValueError(f"{value!r} is not a duration; {HELP}")


def format_duration(delta: timedelta | float) -> str:
    """A short human spelling: ``850ms``, ``12.3s``, ``2m05s``."""
    seconds = delta.total_seconds() if isinstance(delta, timedelta) else float(delta)
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 60:
        return f"{seconds:.1f}s" if seconds < 10 else f"{seconds:.0f}s"
    minutes, rest = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{rest:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"
