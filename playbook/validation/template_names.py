"""What a template or expression may use at its place in the playbook, and the messages
for what it may not: filters and tests that the sandbox does not have, and bare names that
no context provides there (SPEC sections 5 and 11).

Every template sees ``inputs``, ``vars``, ``env``, ``steps``, ``run`` and the sandbox's
globals (``uuid()``, ``now()``, ``range()``...). The steps of a ``foreach`` (however deeply
nested, also inside a ``parallel``) also see its loop variable (``as``, ``item`` by default)
and ``index``; the foreach's own fields (``items``, ``concurrency``, ``when``...) are
rendered outside the loop and do not. ``result``, the attempt's result, exists only in
``retry.until``. Names that a template makes itself (``{% set %}``, loop targets) are
its own: :attr:`~playbook.validation.values.TemplateRefs.free` leaves them out. Names that
only ever appear in attempts to break out of the sandbox (``cycler``, ``config``...) are
left to the sandbox, which refuses them when rendered, in its own words.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator
from typing import Any

from playbook.suggest import did_you_mean
from playbook.templating.environment import ENV
from playbook.templating.refusals import ESCAPE_NAMES
from playbook.validation.context import Context
from playbook.validation.shape import CONTEXT_NAMES, NESTING_ACTIONS, action_of, all_steps
from playbook.validation.values import TemplateRefs
from playbook.yamlsource import YamlPath

# Our own filters, named in the message for a filter that matches none (Jinja's are many).
_OWN_FILTERS = ("to_json", "from_json", "duration")


def _public(names: Any) -> list[str]:
    """The names a user may write: identifiers, not internals (``_budget_loop``) or the
    operator aliases of tests (``==``)."""
    return sorted(n for n in names if n.isidentifier() and not n.startswith("_"))


FILTERS: tuple[str, ...] = tuple(_public(ENV.filters))
TESTS: tuple[str, ...] = tuple(_public(ENV.tests))
GLOBALS: tuple[str, ...] = tuple(_public(ENV.globals))


def filter_and_test_problems(refs: TemplateRefs) -> list[str]:
    """A message for each filter and test that the sandbox does not have."""
    found: list[str] = []
    for name in sorted(refs.filters - set(ENV.filters)):
        hint = did_you_mean(name, FILTERS) or (
            f"; the filters are Jinja's built-in ones and {_and(_OWN_FILTERS)}"
        )
        found.append(f"no filter named {name!r}{hint}")
    for name in sorted(refs.tests - set(ENV.tests)):
        hint = did_you_mean(name, TESTS) or f"; the tests are {_and(TESTS)}"
        found.append(f"no test named {name!r}{hint}")
    return found


def _loop_variables(ctx: Context, path: YamlPath) -> Iterator[str | None]:
    """The loop variables of the foreach steps whose steps hold the field at ``path``,
    outermost first; None for one that is not a string (the schema pass reports it)."""
    if len(path) < 2 or path[0] not in ("steps", "finally"):
        return
    node: Any = ctx.step_at(path[:2])
    at = 2  # path[at:] is the field's path inside ``node``, a step
    while len(path) >= at + 3 and path[at + 1] == "steps" and isinstance(path[at + 2], int):
        action = path[at]
        if action not in NESTING_ACTIONS or action_of(node) != action:
            return
        body = node[action]
        if action == "foreach":
            name = body.get("as", "item")
            yield name if isinstance(name, str) else None
        node = body["steps"][path[at + 2]]
        at += 3


def visible_names(ctx: Context, path: YamlPath) -> set[str] | None:
    """The bare names a template at ``path`` can read; None when that cannot be told."""
    names = {*CONTEXT_NAMES, *ENV.globals, *ESCAPE_NAMES}
    for name in _loop_variables(ctx, path):
        if name is None:
            return None
        names.update((name, "index"))
    if path[-2:] == ("retry", "until"):
        names.add("result")
    return names


def _names_of(ctx: Context, section: str) -> dict[str, list[str]]:
    """``vars.x``, ``inputs.x``, ``steps.x`` by ``x``: what a bare name may have been meant
    to be, among what this section of the playbook can read (the connection is set up
    before vars and steps, vars are rendered before steps)."""
    meant: dict[str, list[str]] = {}
    variables = ctx.data.get("vars")
    declared = ctx.data.get("inputs")
    if section != "connection":
        for name in [*(variables if isinstance(variables, dict) else ()), *ctx.var_names]:
            meant.setdefault(str(name), []).append(f"vars.{name}")
    for name in declared if isinstance(declared, dict) else ():
        meant.setdefault(str(name), []).append(f"inputs.{name}")
    if section not in ("connection", "vars"):
        for name in ctx.ids:
            meant.setdefault(name, []).append(f"steps.{name}")
    return {name: list(dict.fromkeys(found)) for name, found in meant.items()}


def _loop_lines(ctx: Context, name: str) -> list[int]:
    """The lines of the foreach steps of the file that make ``name`` a loop variable."""
    return [
        ctx.line(path)
        for path, step in all_steps(ctx.data)
        if action_of(step) == "foreach"
        and isinstance(step["foreach"], dict)
        and name in ("index", step["foreach"].get("as", "item"))
    ]


def undefined_name(
    ctx: Context, name: str, path: YamlPath, visible: set[str], *, expression: bool
) -> str:
    """The message for a bare name that no context provides at ``path``."""
    qualified = _names_of(ctx, str(path[0]))
    if name in qualified:
        return f"{name} is not defined; did you mean {' or '.join(qualified[name])}?"
    if name == "result":
        return (
            "result is not defined here: it is the attempt's result, only in retry.until; "
            "elsewhere read a step's result as steps.<id>.result"
        )
    lines = _loop_lines(ctx, name)
    if lines:
        where, its = (
            (f"the foreach at line {lines[0]}", "its")
            if len(lines) == 1
            else (f"the foreach steps at lines {_and(map(str, lines))}", "their")
        )
        return (
            f"{name} is not defined here: it is a loop variable of {where}, visible only "
            f"in {its} steps"
        )
    locals_ = sorted(visible - {*CONTEXT_NAMES, *ENV.globals, *ESCAPE_NAMES})
    # what did_you_mean does, but a var or input is suggested as vars.x or inputs.x
    choices = {n: n for n in [*CONTEXT_NAMES, *locals_, *GLOBALS]}
    for bare, found in qualified.items():
        choices.setdefault(bare, found[0])
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    if close:
        return f"{name} is not defined; did you mean {choices[close[0]]}?"
    kind = "an expression" if expression else "a template"
    names = _and([*CONTEXT_NAMES, *locals_])
    calls = _and(f"{g}()" for g in GLOBALS)
    return f"{name} is not defined; here {kind} can read {names}, and call {calls}"


def _and(words: Iterable[str]) -> str:
    """``a, b and c``."""
    listed = list(words)
    return listed[0] if len(listed) == 1 else f"{', '.join(listed[:-1])} and {listed[-1]}"
