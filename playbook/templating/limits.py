"""How big a template, and what it builds, may get: the size limits and their checks.

A value's *weight* is its size once written out: items counted through nesting plus
string lengths, every reference to a shared value again. Filters, calls, operators and
``{{ }}`` output check the weight of what they take and give against these limits; ``*``
and ``**`` are checked before they run (and ``sizing`` and ``formats`` check other calls
before they run). Every check refuses with a ``Refused`` that says which limit was hit.
"""

from __future__ import annotations

from collections.abc import Mapping, MappingView
from typing import Any

from jinja2.runtime import Undefined

from playbook import numbers
from playbook.templating.refusals import Refused
from playbook.templating.timing import CURRENT

MAX_TEMPLATE_LENGTH = 100_000
"""Longest template or expression source accepted, in characters."""
MAX_OUTPUT = 1_000_000
"""Most characters a template may render."""
MAX_ITEMS = 1_000_000
"""Largest value (items, counted through nesting, plus string lengths) a template may build."""
MAX_RANGE = 100_000
"""Most items ``range()`` may produce."""
MAX_INT_BITS = 100_000
"""Largest integer ``*`` and ``**`` may produce, in bits (about 30,000 digits)."""
MAX_INT_DIGITS = numbers.MAX_INT_DIGITS
"""Most digits of an integer a template may give back (and Python may write out)."""

_TEXTS = (str, bytes, bytearray)
_REPEATABLE = (*_TEXTS, list, tuple)


def too_many_items() -> Refused:
    return Refused(f"the result would be larger than {MAX_ITEMS} items")


def too_long() -> Refused:
    return Refused(f"the result would be longer than {MAX_ITEMS} characters")


def too_much_output() -> Refused:
    return Refused(f"template output is larger than {MAX_OUTPUT} characters")


def too_big_number() -> Refused:
    return Refused(f"the result would be a number larger than {MAX_INT_BITS} bits")


def too_many_digits() -> Refused:
    return Refused(f"the result would be a number with more than {MAX_INT_DIGITS} digits")


def unwritable_number() -> Refused:
    return Refused(
        f"a number with more than {MAX_INT_DIGITS} digits is too long to turn into text or back"
    )


def check_length(source: str) -> None:
    if len(source) > MAX_TEMPLATE_LENGTH:
        raise Refused(f"template is longer than {MAX_TEMPLATE_LENGTH} characters")


def weight(value: object, cap: int = MAX_ITEMS) -> int:
    """How big a value is once written out: items through nesting plus string lengths.

    Shared references count every time they appear (that is what ``str()`` or JSON would
    write). Stops counting past ``cap``. Never consumes iterators.
    """
    if isinstance(value, (str, bytes, bytearray)):
        return len(value)
    if value is None or isinstance(value, (bool, float, Undefined)):
        return 1
    if isinstance(value, int):
        return max(1, value.bit_length() // 3)
    if isinstance(value, range):
        return len(value)
    if not isinstance(value, (Mapping, list, tuple, set, frozenset, MappingView)):
        return 1
    budget = CURRENT.get()
    if budget is not None:
        known = budget.weights.get(id(value))
        if known is not None and known[0] is value:
            return known[1]
    total = 1
    parts: tuple[Any, ...] = (
        (value.keys(), value.values()) if isinstance(value, Mapping) else (value,)
    )
    for part in parts:
        for item in part:
            # Inline the common scalars: this runs over every item of big lists.
            kind = type(item)
            if kind is str:
                total += len(item)
            elif kind is int:
                total += 1 + item.bit_length() // 3
            elif kind is float or kind is bool or item is None:
                total += 1
            else:
                total += weight(item, cap)
            if total > cap:
                break
        if total > cap:
            break
    if budget is not None:
        budget.weights[id(value)] = (value, total)
    return total


def check_weight(value: object) -> None:
    if weight(value) > MAX_ITEMS:
        raise too_long() if isinstance(value, _TEXTS) else too_many_items()


def is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_power(base: Any, exponent: Any) -> None:
    if (
        is_int(base)
        and is_int(exponent)
        and exponent > 0
        and exponent * (abs(base).bit_length() - 1) > MAX_INT_BITS
    ):
        raise too_big_number()


def _repeated_weight(sequence: Any, times: int) -> int:
    """The weight of ``sequence * times`` (a list's own 1 is not repeated)."""
    if isinstance(sequence, _TEXTS):
        return len(sequence) * times
    return 1 + (weight(sequence) - 1) * times


def check_multiply(left: Any, right: Any) -> None:
    if is_int(left) and is_int(right):
        if left.bit_length() + right.bit_length() > MAX_INT_BITS + 1:
            raise too_big_number()
        return
    for sequence, times in ((left, right), (right, left)):
        if (
            isinstance(sequence, _REPEATABLE)
            and is_int(times)
            and times > 0
            and _repeated_weight(sequence, times) > MAX_ITEMS
        ):
            raise too_long() if isinstance(sequence, _TEXTS) else too_many_items()


def safe_range(*args: int) -> range:
    """``range()`` in templates: refused past MAX_RANGE items."""
    result = range(*args)
    if len(result) > MAX_RANGE:
        raise Refused(f"range() would have {len(result)} items; the limit is {MAX_RANGE}")
    return result


def finalize(value: Any) -> Any:
    """Called on every ``{{ }}`` value before ``str()``: refuse what would print too much."""
    if not isinstance(value, (str, Undefined)) and weight(value, MAX_OUTPUT) > MAX_OUTPUT:
        raise too_much_output()
    return value
