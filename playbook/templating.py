"""The one sandboxed Jinja environment, and everything that renders or checks a template.

This module owns:

* rendering values (``render``): a string that is exactly one ``{{ expr }}`` keeps the
  expression's native type, any other template string renders to a string, mappings and
  lists are rendered recursively;
* evaluating bare expressions (``evaluate``) for ``when``, ``retry.until`` and ``assert``;
* load-time checks (``check_template``, ``check_expression``, ``referenced_names``);
* the sandbox: no Python internals, and bounded time, output and memory.

Every failure leaves as ``TemplateError`` (or ``TemplateSecurityError``), its message
prefixed with the caller's ``where``; nothing else escapes.

Why not ``NativeEnvironment``: it literal-evals rendered strings, so a variable holding
``"007"`` would come back as the number 7. A value that is exactly ``{{ expr }}`` is
evaluated with ``compile_expression`` instead, which returns the object itself.

Resource limits are enforced cooperatively (binary operators, calls, filters, loop
iterations and output chunks all check a deadline and sizes) with a ``SIGALRM`` backstop
when rendering on the main thread and nobody else owns that signal.
"""

from __future__ import annotations

import functools
import json
import re
import signal
import threading
import time
import uuid as _uuid
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timezone
from types import FrameType, TracebackType
from typing import Any, cast

from jinja2 import StrictUndefined, nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.environment import Template, TemplateExpression
from jinja2.exceptions import (
    SecurityError,
    TemplateRuntimeError,
    TemplateSyntaxError,
    UndefinedError,
)
from jinja2.exceptions import (
    TemplateError as JinjaTemplateError,
)
from jinja2.meta import find_undeclared_variables
from jinja2.parser import Parser
from jinja2.runtime import Context, Undefined
from jinja2.sandbox import (
    ImmutableSandboxedEnvironment,
    modifies_known_mutable,
)
from jinja2.utils import missing

from playbook.durations import parse_duration
from playbook.errors import TemplateError, TemplateSecurityError

__all__ = [
    "MAX_ITEMS",
    "MAX_OUTPUT",
    "MAX_RANGE",
    "MAX_TEMPLATE_LENGTH",
    "TIME_BUDGET",
    "check_expression",
    "check_template",
    "evaluate",
    "is_template",
    "referenced_names",
    "render",
    "truthy",
]

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
TIME_BUDGET = 2.0
"""Seconds one template may run."""

_INTERNALS_HINT = "use the values in inputs, vars, env, steps and run"
# Names that only ever appear in attempts to break out of a template sandbox (Flask's
# `config`/`request`, Jinja's default globals that we removed, builtins...).
_ESCAPE_NAMES = frozenset(
    {
        "lipsum",
        "cycler",
        "joiner",
        "config",
        "request",
        "url_for",
        "get_flashed_messages",
        "builtins",
        "import",
        "os",
        "sys",
        "subprocess",
        "eval",
        "exec",
        "open",
        "getattr",
        "globals",
        "locals",
    }
)
_NATIVE = re.compile(r"\A\s*\{\{(.*)\}\}\s*\Z", re.DOTALL)
_IDENTIFIER = re.compile(r"\A[A-Za-z_][A-Za-z0-9_]*\Z")


# --------------------------------------------------------------------------- refusals


class _Refused(Exception):
    """Raised inside a render when the sandbox refuses; becomes TemplateSecurityError."""


class _Missing(UndefinedError):
    """An undefined value was used; carries the Undefined so the message can name things."""

    def __init__(self, message: str | None = None, *, undefined: Undefined) -> None:
        super().__init__(message)
        self.undefined = undefined


def _internals(name: object) -> _Refused:
    return _Refused(f"templates cannot access Python internals ({name!r}); {_INTERNALS_HINT}")


def _too_slow() -> _Refused:
    return _Refused(f"template took longer than {TIME_BUDGET:g}s; simplify it")


def _too_many_items() -> _Refused:
    return _Refused(f"the result would be larger than {MAX_ITEMS} items")


def _too_long() -> _Refused:
    return _Refused(f"the result would be longer than {MAX_ITEMS} characters")


def _too_much_output() -> _Refused:
    return _Refused(f"template output is larger than {MAX_OUTPUT} characters")


def _too_big_number() -> _Refused:
    return _Refused(f"the result would be a number larger than {MAX_INT_BITS} bits")


# --------------------------------------------------------------------------- budget


@dataclass
class _Budget:
    """The state of one render: its deadline and a memo of value sizes."""

    deadline: float
    active: bool = True
    # id -> (the object, kept alive so the id stays valid; its weight)
    weights: dict[int, tuple[object, int]] = field(default_factory=dict)


_CURRENT: ContextVar[_Budget | None] = ContextVar("playbook_template_budget", default=None)


def _tick() -> None:
    """Refuse if the current render has spent its time."""
    budget = _CURRENT.get()
    if budget is not None and time.monotonic() > budget.deadline:
        raise _too_slow()


@contextmanager
def _budgeted() -> Iterator[_Budget]:
    """Run a render under a time budget (reusing the outer one when nested)."""
    outer = _CURRENT.get()
    if outer is not None:
        yield outer
        return
    budget = _Budget(deadline=time.monotonic() + TIME_BUDGET)
    token = _CURRENT.set(budget)
    restore = _arm_alarm(budget)
    try:
        yield budget
    finally:
        budget.active = False
        if restore is not None:
            restore()
        _CURRENT.reset(token)


def _arm_alarm(budget: _Budget) -> Callable[[], None] | None:
    """Backstop for computation that never reaches a cooperative check.

    Only on the main thread (signals are delivered there), and only when SIGALRM is
    ours to take: default handler and no timer running. Returns the undo, or None.
    """
    if (
        not hasattr(signal, "setitimer")
        or threading.current_thread() is not threading.main_thread()
    ):
        return None
    if signal.getsignal(signal.SIGALRM) is not signal.SIG_DFL:
        return None
    if signal.getitimer(signal.ITIMER_REAL)[0] != 0:
        return None

    def on_alarm(signum: int, frame: FrameType | None) -> None:
        if budget.active:
            raise _too_slow()

    previous = signal.signal(signal.SIGALRM, on_alarm)
    # A little later than the cooperative deadline, so that the clean check usually wins.
    signal.setitimer(signal.ITIMER_REAL, TIME_BUDGET + 0.1)

    def restore() -> None:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)

    return restore


def _weight(value: object, cap: int = MAX_ITEMS) -> int:
    """How big a value is once written out: items through nesting plus string lengths.

    Shared references count every time they appear (that is what ``str()`` or JSON would
    write). Stops counting past ``cap``. Never consumes iterators.
    """
    if isinstance(value, str):
        return len(value)
    if value is None or isinstance(value, (bool, float, Undefined)):
        return 1
    if isinstance(value, int):
        return max(1, value.bit_length() // 3)
    if isinstance(value, range):
        return len(value)
    if not isinstance(value, (Mapping, list, tuple, set, frozenset)):
        return 1
    budget = _CURRENT.get()
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
                total += _weight(item, cap)
            if total > cap:
                break
        if total > cap:
            break
    if budget is not None:
        budget.weights[id(value)] = (value, total)
    return total


def _check_weight(value: object) -> None:
    if _weight(value) > MAX_ITEMS:
        raise _too_long() if isinstance(value, str) else _too_many_items()


# --------------------------------------------------------------------------- environment


class _StrictUndefined(StrictUndefined):
    """StrictUndefined whose error carries the undefined value (to name names in messages)."""

    __slots__ = ()

    def __init__(
        self,
        hint: str | None = None,
        obj: Any = missing,
        name: str | None = None,
        exc: type[TemplateRuntimeError] = UndefinedError,
    ) -> None:
        super().__init__(hint, obj, name, exc)
        if exc is UndefinedError:
            self._undefined_exception = functools.partial(_Missing, undefined=self)  # type: ignore[assignment]


class _Iteration:
    """A loop's iterable that checks the deadline on every item (keeps ``len``)."""

    def __init__(self, items: Any) -> None:
        self._items = items

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Any]:
        for item in self._items:
            _tick()
            yield item


def _budget_loop(items: Any) -> Any:
    """The hidden filter every ``{% for %}`` iterable goes through."""
    if isinstance(items, Undefined):
        return items
    return _Iteration(items)


class _CodeGenerator(CodeGenerator):
    """Routes every for-loop's iterable through the hidden ``_budget_loop`` filter, so that
    loops that write nothing (``{% set %}`` only) still notice the deadline."""

    def visit_Template(self, node: nodes.Template, frame: Frame | None = None) -> None:
        # Before the base class collects the filters the template uses.
        for loop in node.find_all(nodes.For):
            wrapped = nodes.Filter(
                loop.iter, "_budget_loop", [], [], None, None, lineno=loop.iter.lineno
            )
            wrapped.set_environment(self.environment)
            loop.iter = wrapped
        super().visit_Template(node, frame)

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        # Autoescape is always off, so the base class would write str_join((...)).
        self.write("environment.concat_values((")
        for value in node.nodes:
            self.visit(value, frame)
            self.write(", ")
        self.write("))")


def _safe_range(*args: int) -> range:
    result = range(*args)
    if len(result) > MAX_RANGE:
        raise _Refused(f"range() would have {len(result)} items; the limit is {MAX_RANGE}")
    return result


# Filters whose integer arguments are sizes of the output.
_SIZING_FILTERS = frozenset({"center", "indent", "wordwrap", "truncate", "batch", "slice"})
_SIZING_METHODS = frozenset({"center", "ljust", "rjust", "zfill", "expandtabs"})


def _guard_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a filter: deadline, size of its input, sizing arguments, size of its result."""
    offset = 1 if getattr(func, "jinja_pass_arg", None) is not None else 0
    sizing = name in _SIZING_FILTERS

    @functools.wraps(func)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        _tick()
        if len(args) > offset:
            _check_weight(args[offset])
        if sizing:
            for arg in (*args[offset + 1 :], *kwargs.values()):
                if isinstance(arg, int) and not isinstance(arg, bool) and arg > MAX_ITEMS:
                    raise _too_long()
        result = func(*args, **kwargs)
        _check_weight(result)
        return result

    return guarded


class _Sandbox(ImmutableSandboxedEnvironment):
    """ImmutableSandboxedEnvironment with clearer refusals and resource limits."""

    code_generator_class = _CodeGenerator
    # `~` is not a binary operator in Jinja (it compiles to a Concat node): see concat_values.
    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self) -> None:
        super().__init__(
            undefined=_StrictUndefined,
            autoescape=False,
            keep_trailing_newline=True,
            finalize=_finalize,
        )
        for name in ("lipsum", "cycler", "joiner"):
            self.globals.pop(name, None)
        self.globals["range"] = _safe_range
        self.globals["uuid"] = _uuid4
        self.globals["now"] = _now
        self.filters.update(
            to_json=_to_json,
            from_json=_from_json,
            duration=_duration,
            seconds=_duration,
        )
        self.filters = {name: _guard_filter(name, func) for name, func in self.filters.items()}
        self.filters["_budget_loop"] = _budget_loop

    # ---- attribute access

    def _refuse_attribute(self, obj: Any, name: str) -> Any:
        """Look up a name starting with '_': a mapping's own key is data, the rest is refused."""
        if isinstance(obj, Undefined):
            obj._fail_with_undefined_error()
        if isinstance(obj, Mapping):
            try:
                return obj[name]
            except (KeyError, TypeError):
                if not name.startswith("__"):
                    return self.undefined(obj=obj, name=name)
        raise _internals(name)

    def getattr(self, obj: Any, attribute: str) -> Any:
        if isinstance(attribute, str) and attribute.startswith("_"):
            return self._refuse_attribute(obj, attribute)
        # Playbook data is JSON: `result.items` means the key "items", not dict.items.
        if isinstance(obj, Mapping) and not isinstance(obj, Undefined):
            try:
                return obj[attribute]
            except (KeyError, TypeError):
                pass
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        if isinstance(argument, str) and argument.startswith("_"):
            return self._refuse_attribute(obj, argument)
        return super().getitem(obj, argument)

    def unsafe_undefined(self, obj: Any, attribute: str) -> Undefined:
        if modifies_known_mutable(obj, attribute):
            raise _Refused(
                f"templates cannot change values ({attribute!r} of a {type(obj).__name__}); "
                "build a new value instead"
            )
        raise _internals(attribute)

    # ---- calls and operators

    def call(self, context: Context, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        _tick()
        if not self.is_safe_callable(obj):
            raise _internals(getattr(obj, "__name__", type(obj).__name__))
        if isinstance(getattr(obj, "__self__", None), str) and obj.__name__ in _SIZING_METHODS:
            for arg in (*args, *kwargs.values()):
                if isinstance(arg, int) and arg > MAX_ITEMS:
                    raise _too_long()
        result = context.call(obj, *args, **kwargs)
        _check_weight(result)
        return result

    def concat_values(self, values: tuple[Any, ...]) -> str:
        """``a ~ b ~ c``: strings joined, after checking that ``str()`` of each cannot explode."""
        _tick()
        if sum(_weight(value) for value in values) > MAX_ITEMS:
            raise _too_long()
        return "".join(str(value) for value in values)

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        _tick()
        if operator == "**":
            _check_power(left, right)
        elif operator == "*":
            _check_multiply(left, right)
        elif operator == "+" and _weight(left) + _weight(right) > MAX_ITEMS + 1:
            raise _too_long() if isinstance(left, str) else _too_many_items()
        result = self.binop_table[operator](left, right)
        if operator == "%":
            _check_weight(result)
        return result


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_power(base: Any, exponent: Any) -> None:
    if (
        _is_int(base)
        and _is_int(exponent)
        and exponent > 0
        and exponent * (abs(base).bit_length() - 1) > MAX_INT_BITS
    ):
        raise _too_big_number()


def _repeated_weight(sequence: str | list[Any] | tuple[Any, ...], times: int) -> int:
    """The weight of ``sequence * times`` (a list's own 1 is not repeated)."""
    if isinstance(sequence, str):
        return len(sequence) * times
    return 1 + (_weight(sequence) - 1) * times


def _check_multiply(left: Any, right: Any) -> None:
    if _is_int(left) and _is_int(right):
        if left.bit_length() + right.bit_length() > MAX_INT_BITS + 1:
            raise _too_big_number()
        return
    for sequence, times in ((left, right), (right, left)):
        if (
            isinstance(sequence, (str, list, tuple))
            and _is_int(times)
            and times > 0
            and _repeated_weight(sequence, times) > MAX_ITEMS
        ):
            raise _too_long() if isinstance(sequence, str) else _too_many_items()


def _finalize(value: Any) -> Any:
    """Called on every ``{{ }}`` value before ``str()``: refuse what would print too much."""
    if not isinstance(value, (str, Undefined)) and _weight(value, MAX_OUTPUT) > MAX_OUTPUT:
        raise _too_much_output()
    return value


# --------------------------------------------------------------------------- helpers


def _uuid4() -> str:
    """A new random UUID, as a string."""
    return str(_uuid.uuid4())


def _now() -> str:
    """The current time, timezone-aware UTC, as an ISO-8601 string."""
    return datetime.now(timezone.utc).isoformat()


_uuid4.__name__ = _uuid4.__qualname__ = "uuid"
_now.__name__ = _now.__qualname__ = "now"


def _json_default(value: Any) -> Any:
    if isinstance(value, Undefined):
        value._fail_with_undefined_error()
    if isinstance(value, (tuple, set, frozenset, range, Iterator)) or type(value).__name__ in (
        "dict_keys",
        "dict_values",
        "dict_items",
    ):
        return list(value)
    raise TypeError(f"to_json: a {type(value).__name__} cannot be written as JSON")


def _to_json(value: Any, indent: int | None = None) -> str:
    """Compact JSON (keys in their order); ``to_json(indent=2)`` for humans."""
    separators = (",", ":") if indent is None else (",", ": ")
    return json.dumps(
        value, ensure_ascii=False, separators=separators, indent=indent, default=_json_default
    )


def _from_json(value: Any) -> Any:
    if not isinstance(value, (str, bytes)):
        raise TypeError(f"from_json expects a string, got {_kind(value)}")
    try:
        return json.loads(value)
    except json.JSONDecodeError as exc:
        raise ValueError(f"from_json: not valid JSON: {exc}") from None


def _duration(value: Any) -> float:
    """A duration (``90s``, ``1m30s``, ``PT1M``, a number) as float seconds."""
    try:
        return parse_duration(value).total_seconds()
    except ValueError as exc:
        raise ValueError(f"duration filter: {exc}") from None


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    return f"a {type(value).__name__}"


_ENV = _Sandbox()


@functools.lru_cache(maxsize=2048)
def _compiled_template(source: str) -> Template:
    return _ENV.from_string(source)


@functools.lru_cache(maxsize=2048)
def _compiled_expression(source: str) -> TemplateExpression:
    return _ENV.compile_expression(source, undefined_to_none=False)


@functools.lru_cache(maxsize=2048)
def _native_expression(source: str) -> str | None:
    """The expression of a template that is exactly one ``{{ expr }}``, else None."""
    match = _NATIVE.match(source)
    if match is None:
        return None
    variables = 0
    for _, token, value in _ENV.lex(source):
        if token == "variable_begin":
            variables += 1
        elif (token == "data" and value.strip()) or token.endswith("_begin"):
            return None
    if variables != 1:
        return None
    inner = match.group(1)
    # whitespace control ({{- x -}}) is part of the delimiters, not of the expression
    if inner.startswith(("-", "+")):
        inner = inner[1:]
    if inner.endswith(("-", "+")):
        inner = inner[:-1]
    return inner


# --------------------------------------------------------------------------- errors


def _template_line(exc: BaseException) -> int | None:
    line = None
    tb: TracebackType | None = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _path_to(context: Mapping[str, Any], target: object) -> str | None:
    """Where ``target`` sits in the context, as ``steps.start.result[2]``; None if unknown.

    Breadth-first over mappings and lists, giving up after a few thousand values."""
    limit = 5_000
    queue: deque[tuple[str, object]] = deque((str(key), value) for key, value in context.items())
    queued = len(queue)
    while queue:
        path, value = queue.popleft()
        if value is target:
            return path
        children: Iterable[tuple[str, object]] = ()
        if isinstance(value, Mapping):
            children = (
                (
                    path
                    + (
                        f".{key}"
                        if isinstance(key, str) and _IDENTIFIER.match(key)
                        else f"[{key!r}]"
                    ),
                    child,
                )
                for key, child in value.items()
            )
        elif isinstance(value, (list, tuple)):
            children = ((f"{path}[{index}]", child) for index, child in enumerate(value))
        for child in children:
            if queued >= limit:
                break
            queue.append(child)
            queued += 1
    return None


def _missing_message(error: _Missing, context: Mapping[str, Any]) -> tuple[str, bool]:
    """The message for a use of an undefined value, and whether it is a security refusal."""
    undefined = error.undefined
    hint = undefined._undefined_hint
    obj = undefined._undefined_obj
    name = undefined._undefined_name
    if hint:
        return hint, False
    if obj is missing:
        if name in _ESCAPE_NAMES or (isinstance(name, str) and name.startswith("_")):
            return str(_internals(name)), True
        available = ", ".join(sorted(str(key) for key in context))
        return f"{name!r} is undefined (available: {available})", False
    path = _path_to(context, obj)
    if isinstance(obj, Mapping):
        keys = sorted(str(key) for key in obj)
        listed = ", ".join(keys[:20]) + (", ..." if len(keys) > 20 else "")
        has = f"it has: {listed}" if keys else "it is empty"
        return f"{path or 'the mapping'} has no key {name!r} ({has})", False
    if isinstance(obj, (list, tuple)) and _is_int(name):
        count = len(obj)
        return (
            f"{path or 'the list'} has no item {name} (it has {count} item{'s' * (count != 1)})",
            False,
        )
    return f"{path or 'the value'} ({_kind(obj)}) has no attribute {name!r}", False


def _syntax_message(exc: TemplateSyntaxError, source: str, what: str) -> str:
    message = exc.message or str(exc)
    if exc.lineno and "\n" in source.rstrip("\n"):
        return f"{what} syntax error on line {exc.lineno}: {message}"
    return f"{what} syntax error: {message}"


def _translate(
    exc: BaseException, context: Mapping[str, Any], source: str, where: str
) -> TemplateError:
    """Any exception raised while rendering, as the TemplateError to raise."""
    security = False
    if isinstance(exc, _Refused):
        message, security = str(exc), True
    elif isinstance(exc, TemplateSyntaxError):
        return TemplateError(_syntax_message(exc, source, "template"), where=where)
    elif isinstance(exc, _Missing):
        message, security = _missing_message(exc, context)
    elif isinstance(exc, SecurityError):
        message, security = f"{exc.message}; {_INTERNALS_HINT}", True
    elif isinstance(exc, JinjaTemplateError):
        message = exc.message or type(exc).__name__
    elif isinstance(exc, MemoryError):
        message, security = "template used too much memory; simplify it", True
    elif isinstance(exc, RecursionError):
        message, security = "template recursed too deeply; simplify it", True
    elif isinstance(exc, TemplateError):
        return exc
    else:
        text = str(exc)
        if not text or isinstance(exc, LookupError):
            text = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
        message = text
    line = _template_line(exc)
    if line is not None and "\n" in source.rstrip("\n"):
        message = f"line {line}: {message}"
    cls = TemplateSecurityError if security else TemplateError
    return cls(message, where=where)


# --------------------------------------------------------------------------- rendering


def _to_value(value: Any) -> Any:
    """A native result as JSON-shaped data: sequences and iterators become lists, mappings
    dicts, str subclasses (Markup) plain strings. Undefined anywhere is an error; a bare
    function is an error (it was meant to be called)."""
    count = 0

    def convert(item: Any) -> Any:
        nonlocal count
        count += 1
        if count > MAX_ITEMS:
            raise _too_many_items()
        if count % 1024 == 0:
            _tick()
        if item is None or isinstance(item, (bool, int, float)):
            return item
        if isinstance(item, str):
            return item if type(item) is str else str(item)
        if isinstance(item, Undefined):
            item._fail_with_undefined_error()
        if isinstance(item, Mapping):
            return {key: convert(child) for key, child in item.items()}
        if isinstance(item, (list, tuple, set, frozenset, range, _Iteration, Iterator)) or type(
            item
        ).__name__ in ("dict_keys", "dict_values", "dict_items"):
            return [convert(child) for child in item]
        if callable(item):
            name = getattr(item, "__name__", type(item).__name__)
            raise TypeError(f"{name!r} is a function; call it, e.g. {name}()")
        return item

    return convert(value)


def _check_length(source: str) -> None:
    if len(source) > MAX_TEMPLATE_LENGTH:
        raise _Refused(f"template is longer than {MAX_TEMPLATE_LENGTH} characters")


def _render_string(source: str, context: Mapping[str, Any], where: str) -> Any:
    try:
        _check_length(source)
        expression = _native_expression(source)
        with _budgeted() as budget:
            if expression is not None:
                result = _compiled_expression(expression)(dict(context))
                return _to_value(result)
            template = _compiled_template(source)
            chunks: list[str] = []
            size = 0
            stream = cast(Generator[str, None, None], template.generate(dict(context)))
            try:
                for chunk in stream:
                    size += len(chunk)
                    if size > MAX_OUTPUT:
                        raise _too_much_output()
                    if time.monotonic() > budget.deadline:
                        raise _too_slow()
                    chunks.append(chunk)
            finally:
                stream.close()
            return "".join(chunks)
    except Exception as exc:
        raise _translate(exc, context, source, where) from exc


def _child(where: str, key: object) -> str:
    if not where:
        return where
    if isinstance(key, int):
        return f"{where}[{key}]"
    if isinstance(key, str) and _IDENTIFIER.match(key):
        return f"{where}.{key}"
    return f"{where}[{key!r}]"


def is_template(value: object) -> bool:
    """True for a string that contains Jinja markup (``{{``, ``{%`` or ``{#``)."""
    return isinstance(value, str) and ("{{" in value or "{%" in value or "{#" in value)


def render(value: Any, context: Mapping[str, Any], *, where: str = "") -> Any:
    """Render every template in ``value``.

    A string that is exactly one ``{{ expr }}`` (whitespace around it allowed) gives the
    expression's value with its type (lists, mappings, numbers, null, booleans, strings);
    any other template string renders to a string; other strings are returned as they are.
    Mappings and lists are rendered item by item (keys are left alone) and, when ``where``
    is given, errors inside them name the item: ``<where>.args[0]``. Other values are
    returned as they are.
    """
    if isinstance(value, str):
        return _render_string(value, context, where) if is_template(value) else value
    if isinstance(value, Mapping):
        return {key: render(item, context, where=_child(where, key)) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [
            render(item, context, where=_child(where, index)) for index, item in enumerate(value)
        ]
    return value


def evaluate(expression: str, context: Mapping[str, Any], *, where: str = "") -> Any:
    """Evaluate a bare expression (no braces), as ``when``, ``retry.until`` and ``assert``
    are written, and return its value. A non-string (``when: true``) is its own value."""
    if not isinstance(expression, str):
        return expression
    try:
        _check_length(expression)
        compiled = _compiled_expression(expression)
        with _budgeted():
            return _to_value(compiled(dict(context)))
    except TemplateSyntaxError as exc:
        raise TemplateError(_expression_syntax(exc, expression), where=where) from exc
    except Exception as exc:
        raise _translate(exc, context, expression, where) from exc


def _expression_syntax(exc: TemplateSyntaxError, expression: str) -> str:
    message = _syntax_message(exc, expression, "expression")
    if "{{" in expression or "{%" in expression:
        message += " (write the expression without {{ }} or {% %})"
    return message


def check_template(value: str) -> str | None:
    """Syntax check of a template string: None if it compiles, else a message."""
    if len(value) > MAX_TEMPLATE_LENGTH:
        return f"template is longer than {MAX_TEMPLATE_LENGTH} characters"
    try:
        expression = _native_expression(value)
        if expression is not None:
            _compiled_expression(expression)
        else:
            _compiled_template(value)
    except TemplateSyntaxError as exc:
        return _syntax_message(exc, value, "template")
    except RecursionError:
        return "template is nested too deeply"
    return None


def check_expression(expression: str) -> str | None:
    """Syntax check of a bare expression: None if it compiles, else a message."""
    if len(expression) > MAX_TEMPLATE_LENGTH:
        return f"expression is longer than {MAX_TEMPLATE_LENGTH} characters"
    try:
        _compiled_expression(expression)
    except TemplateSyntaxError as exc:
        return _expression_syntax(exc, expression)
    except RecursionError:
        return "expression is nested too deeply"
    return None


def referenced_names(value: str, *, expression: bool = False) -> set[str]:
    """The top-level names a template (or, with ``expression=True``, a bare expression)
    takes from the context, e.g. ``{"steps", "vars"}``. Globals (``uuid``, ``now``,
    ``range``...) are not included. A template that does not parse gives an empty set
    (``check_template`` reports it)."""
    if len(value) > MAX_TEMPLATE_LENGTH:
        return set()
    try:
        if expression:
            parser = Parser(_ENV, value, state="variable")
            body = parser.parse_expression()
            if not parser.stream.eos:
                return set()
            tree = nodes.Template([nodes.Output([body])])
            tree.set_environment(_ENV)
        else:
            tree = _ENV.parse(value)
    except (TemplateSyntaxError, RecursionError):
        return set()
    return set(find_undeclared_variables(tree)) - set(_ENV.globals)


def truthy(value: Any) -> bool:
    """Whether a value counts as true for ``when``, ``until`` and ``assert``: Python's rule
    on JSON values (false, null, 0, "", [] and {} are false; the string "false" is true)."""
    if isinstance(value, Undefined):
        return False
    return bool(value)
