"""How big a filter's or a string method's result would be, worked out before it runs.

``limits`` checks what a call gives back; these checks run first, from the arguments
alone, for the calls whose result can be far larger than what they take: a width
(``center``, ``ljust``, ``to_bytes``), a part repeated for every line, match or item
(``indent``, ``replace``, ``join``, ``wordwrap``, ``expandtabs``, ``translate``,
``urlize``), padding (``slice``, ``batch``), JSON's indentation (``tojson``), and
``format`` (see ``formats``). Each refuses with the ``Refused`` that ``limits`` would
raise after the fact, so nothing past ``MAX_ITEMS`` is ever allocated.

An estimate may be larger than the result, never much smaller: a value counts with its
``weight`` every time it is referenced. Each check takes the arguments under the names
of the function it guards, so that keywords bind the same way; arguments that do not
bind are left for the function itself to refuse.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, MappingView
from typing import Any

from playbook.templating import timing
from playbook.templating.formats import check_percent, size, text_over
from playbook.templating.limits import MAX_ITEMS, is_int, too_many_items, weight

# Where str.splitlines breaks a line; textwrap also breaks at spaces, tabs and hyphens.
_LINE_BREAKS = "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"
_WORD_BREAKS = _LINE_BREAKS + "\t -"


def materialized(value: Any) -> Any:
    """An iterator (``map``, ``select``...) as a list, so that its size is known before
    a filter walks it (which it would do once anyway)."""
    if not isinstance(value, Iterator):
        return value
    items: list[Any] = []
    for item in value:
        items.append(item)
        if len(items) % 1024 == 0:
            timing.tick()
            if len(items) > MAX_ITEMS:
                raise too_many_items()
    return items


def _parts(value: Any) -> tuple[int, int]:
    """How many items iterating ``value`` gives, and their weights added up."""
    if isinstance(value, (str, bytes, bytearray)):
        return len(value), len(value)
    if isinstance(value, Mapping):
        return len(value), sum(weight(key) for key in value)
    if isinstance(value, (list, tuple, set, frozenset, range, MappingView)):
        return len(value), weight(value) - 1
    return 0, 0


def _breaks(text: str, marks: str) -> int:
    return sum(text.count(mark) for mark in marks)


def _items_over(total: int) -> None:
    if total > MAX_ITEMS:
        raise too_many_items()


# --------------------------------------------------------------------------- filters


def _length(text: Any) -> int:
    return len(text) if isinstance(text, (str, bytes, bytearray)) else len(str(text))


def _replace(s: Any, old: Any, new: Any, count: Any = None) -> None:
    if not all(isinstance(part, (bytes, bytearray)) for part in (s, old, new)):
        s, old, new = str(s), str(old), str(new)
    found = s.count(old) if old else len(s) + 1
    if is_int(count) and count >= 0:
        found = min(found, count)
    text_over(len(s) + found * (len(new) - len(old)))


def _join(value: Any, d: Any = "", attribute: Any = None) -> None:
    parts, total = _parts(value)
    text_over(total + _length(d) * max(parts - 1, 0))


def _indent(s: Any, width: Any = 4, first: Any = False, blank: Any = False) -> None:
    if isinstance(s, str):
        unit = len(width) if isinstance(width, str) else size(width)
        text_over(len(s) + unit * (1 + _breaks(s, _LINE_BREAKS)))


def _center(value: Any, width: Any = 80) -> None:
    text_over(max(weight(value), size(width)))


def _wordwrap(
    s: Any,
    width: Any = 79,
    break_long_words: Any = True,
    wrapstring: Any = None,
    break_on_hyphens: Any = True,
) -> None:
    if isinstance(s, str):
        unit = _length(wrapstring if wrapstring is not None else "\n")
        lines = 1 + len(s) // max(size(width), 1) + _breaks(s, _WORD_BREAKS)
        text_over(len(s) + unit * lines)


def _urlize(
    value: Any,
    trim_url_limit: Any = None,
    nofollow: Any = False,
    target: Any = None,
    rel: Any = None,
    extra_schemes: Any = None,
) -> None:
    # Every word may become a link: <a href="https://word" rel=".." target="..">word</a>
    text = str(value)
    per_link = _length(target or "") + _length(rel or "") + 64
    text_over(3 * len(text) + per_link * (1 + _breaks(text, _WORD_BREAKS)))


def _slice(value: Any, slices: Any, fill_with: Any = None) -> None:
    count = size(slices)
    padding = weight(fill_with) * count if fill_with is not None else 0
    _items_over(1 + count + _parts(value)[1] + padding)


def _batch(value: Any, linecount: Any, fill_with: Any = None) -> None:
    parts, total = _parts(value)
    per = size(linecount)
    batches = -(-parts // per) if per else 1
    missing = (-parts) % per if per and fill_with is not None else 0
    _items_over(1 + batches + total + missing * weight(fill_with))


def _to_json(value: Any, indent: Any = None) -> None:
    """JSON with ``indent`` writes every item on a line of its own, indented by its depth."""
    unit = len(indent) if isinstance(indent, str) else size(indent)
    if not unit:
        return
    total = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        total += 2 + depth * unit + (len(item) if isinstance(item, str) else 0)
        text_over(total)
        if isinstance(item, Mapping):
            stack.extend((part, depth + 1) for pair in item.items() for part in pair)
        elif isinstance(item, (list, tuple)):
            stack.extend((child, depth + 1) for child in item)


def _format(value: Any, *args: Any, **kwargs: Any) -> None:
    check_percent(str(value), kwargs or args)


# Filter name -> check, called with the filter's arguments from the value on (without the
# environment or evaluation context that Jinja may pass first).
FILTER_CHECKS: dict[str, Callable[..., None]] = {
    "replace": _replace,
    "join": _join,
    "indent": _indent,
    "center": _center,
    "wordwrap": _wordwrap,
    "urlize": _urlize,
    "slice": _slice,
    "batch": _batch,
    "format": _format,
    "tojson": _to_json,
    "to_json": _to_json,
}
# Filters that walk their input once: an iterator is made a list first (see materialized).
MATERIALIZED = frozenset({"join", "slice", "batch"})


def check_filter(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """Check a call of a filter before it runs (``args`` from the value on)."""
    check = FILTER_CHECKS.get(name)
    if check is not None:
        _bound(check, args, kwargs)


def _bound(check: Callable[..., None], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    try:
        check(*args, **kwargs)
    except TypeError:
        pass  # the arguments do not fit: the function itself will say how


# --------------------------------------------------------------------------- methods


def _pad(owner: Any, width: Any, fillchar: Any = " ") -> None:
    text_over(max(len(owner), size(width)))


def _expandtabs(owner: Any, tabsize: Any = 8) -> None:
    tab = "\t" if isinstance(owner, str) else b"\t"
    text_over(len(owner) + owner.count(tab) * size(tabsize))


def _method_replace(owner: Any, old: Any, new: Any, count: Any = -1) -> None:
    _replace(owner, old, new, count)


def _method_join(owner: Any, iterable: Any) -> None:
    _join(iterable, owner)


def _translate(owner: Any, table: Any) -> None:
    if isinstance(table, Mapping):
        longest = max((weight(item) for item in table.values()), default=1)
        text_over(len(owner) * max(longest, 1))


def _to_bytes(owner: Any, length: Any = 1, byteorder: Any = "big", *, signed: Any = False) -> None:
    text_over(size(length))


# Method name -> check, called with the method's owner (a str or bytes) and arguments.
_METHOD_CHECKS: dict[str, Callable[..., None]] = {
    "center": _pad,
    "ljust": _pad,
    "rjust": _pad,
    "zfill": _pad,
    "expandtabs": _expandtabs,
    "replace": _method_replace,
    "join": _method_join,
    "translate": _translate,
}


def check_method(method: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
    """Check a call of a method of a str, bytes or int before it runs; returns the
    arguments to call it with (an iterator given to ``join`` becomes a list)."""
    owner = getattr(method, "__self__", None)
    name = getattr(method, "__name__", "")
    if is_int(owner) and name == "to_bytes":
        _bound(_to_bytes, (owner, *args), kwargs)
    elif isinstance(owner, (str, bytes, bytearray)) and name in _METHOD_CHECKS:
        if name == "join" and args:
            args = (materialized(args[0]), *args[1:])
        _bound(_METHOD_CHECKS[name], (owner, *args), kwargs)
    return args
