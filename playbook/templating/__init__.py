"""The one sandboxed Jinja environment, and everything that renders or checks a template.

This package owns:

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
when rendering on the main thread and nobody else owns that signal. Sizes are checked
before a value is built wherever the arguments tell what it would be; a value weighs
every reference to a shared part again, and no result holds an integer longer than
Python can write out (``playbook.numbers``).

The modules, each owning one thing (later ones import earlier ones):

``refusals``     the exceptions raised inside a render, and the refusal of internals
``timing``       the time budget of one render: deadline, ``tick()``, the alarm
``limits``       the size limits, the weight of a value, and their checks
``formats``      ``%`` and ``str.format``, sized field by field before they write
``sizing``       filters and string methods sized from their arguments before they run
``messages``     how whatever a render raises becomes our ``TemplateError``
``functions``    the globals and filters we add: ``uuid``, ``now``, JSON, ``duration``
``loops``        for-loops that check the deadline item by item (a compiler change)
``sandbox``      the environment class: lookups, calls and operators, guarded
``environment``  the one environment instance, its compile caches, native expressions
``rendering``    ``render``, ``evaluate``, ``truthy``, ``is_template``
``checks``       ``check_template``, ``check_expression``, ``referenced_names``
"""

from __future__ import annotations

from playbook.templating.checks import check_expression, check_template, referenced_names
from playbook.templating.limits import (
    MAX_INT_BITS,
    MAX_ITEMS,
    MAX_OUTPUT,
    MAX_RANGE,
    MAX_TEMPLATE_LENGTH,
)
from playbook.templating.rendering import evaluate, is_template, render, truthy
from playbook.templating.timing import TIME_BUDGET

__all__ = [
    "MAX_INT_BITS",
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
