"""The sandboxed Jinja environment: what a template may look up, call and compute.

``Sandbox`` is Jinja's ``ImmutableSandboxedEnvironment`` with clearer refusals (no Python
internals, no mutation; a mapping's own keys are data, even ``result.items``) and with
every attribute lookup, call, filter and intercepted operator checked against the time
budget (``timing``) and the size limits (``limits``): calls and formats whose result can
outgrow their arguments are sized before they run (``sizing``, ``formats``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

from jinja2 import StrictUndefined
from jinja2.exceptions import TemplateRuntimeError, UndefinedError
from jinja2.runtime import Context, Undefined
from jinja2.sandbox import ImmutableSandboxedEnvironment, modifies_known_mutable
from jinja2.utils import missing

from playbook.templating import formats, functions, sizing, timing
from playbook.templating.limits import (
    MAX_ITEMS,
    check_multiply,
    check_power,
    check_weight,
    finalize,
    safe_range,
    too_long,
    too_many_items,
    weight,
)
from playbook.templating.loops import CodeGenerator, budget_loop
from playbook.templating.refusals import Missing, Refused, internals


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
            self._undefined_exception = functools.partial(Missing, undefined=self)  # type: ignore[assignment]


# Filters whose integer arguments are sizes of the output.
_SIZING_FILTERS = frozenset({"center", "indent", "wordwrap", "truncate", "batch", "slice"})


def _guard_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a filter: deadline, size of its input, sizing arguments, the size of its
    result first from its arguments (``sizing``) and then as it is."""
    offset = 1 if getattr(func, "jinja_pass_arg", None) is not None else 0
    sizes = name in _SIZING_FILTERS
    walks = name in sizing.MATERIALIZED

    @functools.wraps(func)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        timing.tick()
        if len(args) > offset:
            if walks:
                args = (*args[:offset], sizing.materialized(args[offset]), *args[offset + 1 :])
            check_weight(args[offset])
        if sizes:
            for arg in (*args[offset + 1 :], *kwargs.values()):
                if isinstance(arg, int) and not isinstance(arg, bool) and arg > MAX_ITEMS:
                    raise too_long()
        sizing.check_filter(name, args[offset:], kwargs)
        result = func(*args, **kwargs)
        check_weight(result)
        return result

    return guarded


class Sandbox(ImmutableSandboxedEnvironment):
    """ImmutableSandboxedEnvironment with clearer refusals and resource limits."""

    code_generator_class = CodeGenerator
    # `~` is not a binary operator in Jinja (it compiles to a Concat node): see concat_values.
    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self) -> None:
        super().__init__(
            undefined=_StrictUndefined,
            autoescape=False,
            keep_trailing_newline=True,
            finalize=finalize,
        )
        for name in ("lipsum", "cycler", "joiner"):
            self.globals.pop(name, None)
        self.globals["range"] = safe_range
        self.globals.update(functions.GLOBALS)
        self.filters.update(functions.FILTERS)
        self.filters = {name: _guard_filter(name, func) for name, func in self.filters.items()}
        self.filters["_budget_loop"] = budget_loop

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
        raise internals(name)

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

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        """``str.format`` as Jinja sandboxes it, with every field sized before it is
        written (``formats``)."""
        return formats.str_format(self, value)

    def unsafe_undefined(self, obj: Any, attribute: str) -> Undefined:
        if modifies_known_mutable(obj, attribute):
            raise Refused(
                f"templates cannot change values ({attribute!r} of a {type(obj).__name__}); "
                "build a new value instead"
            )
        raise internals(attribute)

    # ---- calls and operators

    def call(self, context: Context, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        timing.tick()
        if not self.is_safe_callable(obj):
            raise internals(getattr(obj, "__name__", type(obj).__name__))
        args = sizing.check_method(obj, args, kwargs)
        result = context.call(obj, *args, **kwargs)
        check_weight(result)
        return result

    def concat_values(self, values: tuple[Any, ...]) -> str:
        """``a ~ b ~ c``: strings joined, after checking that ``str()`` of each cannot explode."""
        timing.tick()
        if sum(weight(value) for value in values) > MAX_ITEMS:
            raise too_long()
        return "".join(str(value) for value in values)

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        timing.tick()
        if operator == "**":
            check_power(left, right)
        elif operator == "*":
            check_multiply(left, right)
        elif operator == "+" and weight(left) + weight(right) > MAX_ITEMS + 1:
            raise too_long() if isinstance(left, str) else too_many_items()
        elif operator == "%":
            formats.check_percent(left, right)
        result = self.binop_table[operator](left, right)
        if operator == "%":
            check_weight(result)
        return result
