"""How large an integer a playbook value may be, and how writers show one that is larger.

Python writes out integers of at most 4,300 digits: ``str``, ``repr`` and ``json.dumps``
of a longer one raise ``ValueError`` (``sys.set_int_max_str_digits``). So no value of a
run may be longer: the YAML loader refuses a longer literal (exit 2, at its line), a
template a longer result (its step fails), and the writers of reports and plans, as a
last guard, show such a number as a short description instead of failing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

MAX_INT_DIGITS = 4300
"""Most digits of an integer that a playbook, an input or a template's result may hold."""

_BOUND = 10**MAX_INT_DIGITS


def too_big(value: object) -> bool:
    """Whether ``value`` is an integer with more than MAX_INT_DIGITS digits."""
    return isinstance(value, int) and not isinstance(value, bool) and not -_BOUND < value < _BOUND


def is_digit_limit(error: BaseException) -> bool:
    """Whether ``error`` is Python refusing to turn an integer of too many digits into
    text (or text into one)."""
    return isinstance(error, ValueError) and "integer string conversion" in str(error)


DESCRIBED = f"<a number of more than {MAX_INT_DIGITS} digits>"
"""How a writer shows an integer too long to write out."""


def printable(value: Any) -> Any:
    """A copy of ``value`` (its mappings and lists) with every integer too long to write
    out replaced by its description, and every float that JSON cannot hold (infinity,
    NaN) by its name: ``"Infinity"``, ``"-Infinity"``, ``"NaN"`` (strict JSON readers,
    a browser's among them, refuse the bare words)."""
    if too_big(value):
        return DESCRIBED
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, Mapping):
        return {key: printable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [printable(item) for item in value]
    return value
