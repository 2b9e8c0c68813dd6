"""The garbage collector's settings for a ``playbook`` process, once start-up is done.

Only the console script's own process is tuned (:func:`tune_this_process`, called by
``playbook.cli.main``): freezing objects is for a process that ends with its run, not for
a test suite or a program that calls ``run_async`` many times.
"""

from __future__ import annotations

import gc

THRESHOLDS = (20_000, 20, 20)
"""The collector's thresholds during a run (CPython's: 700, 10, 10): a fan-out allocates
tens of objects per step that live until the step ends, and a young collection every 700
allocations mostly walks them in vain (docs/performance.md)."""

_TUNED = False


def tune_this_process() -> None:
    """Let :func:`settle` act in this process: it is the console script's."""
    global _TUNED
    _TUNED = True


def settle() -> None:
    """What start-up made (modules, the schema, the templates' environment) lives as long as
    the process: out of the collector's sight, its full collections during a long run no
    longer walk it again and again; and young collections come less often."""
    if _TUNED:
        gc.freeze()
        gc.set_threshold(*THRESHOLDS)
