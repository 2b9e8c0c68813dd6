"""The runner: interprets a loaded playbook (:mod:`playbook.model`) with the actions,
sleep and clock it is given, and writes its records.

- :mod:`~playbook.runner.interpreter`: the stages, sequences and a step's life cycle;
- :mod:`~playbook.runner.nested`: ``parallel``, ``foreach``, ``include``, ``finally``;
- :mod:`~playbook.runner.retry`: ``retry``; :mod:`~playbook.runner.select`: tags, ``when``;
- :mod:`~playbook.runner.env`: scopes, the template context, the services of a step;
- :mod:`~playbook.runner.values`: typed fields checked when rendered;
- :mod:`~playbook.runner.state`: options, the shared services and state of a run;
- :mod:`~playbook.runner.hygiene`: run-level hygiene's settings, the workflows a run
  started, what it asks the server; :mod:`~playbook.runner.preflight` (before the first
  step) and :mod:`~playbook.runner.closing` (``cleanup`` and ``verify``, after ``finally``).
"""

from playbook.runner.interpreter import Runner
from playbook.runner.state import (
    Clock,
    RunOptions,
    Shared,
    is_interactive,
    new_result,
    now_iso,
    ui_link,
    uses_temporal,
)

__all__ = [
    "Clock",
    "RunOptions",
    "Runner",
    "Shared",
    "is_interactive",
    "new_result",
    "now_iso",
    "ui_link",
    "uses_temporal",
]
