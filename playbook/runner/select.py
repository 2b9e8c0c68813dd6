"""Which steps run: ``--tags``/``--skip-tags``, ``when``, and cleanup steps whose workflow
was never created."""

from __future__ import annotations

from typing import TYPE_CHECKING

from playbook import templating
from playbook.runner import values

if TYPE_CHECKING:
    from playbook.model import Step
    from playbook.runner.env import Scope, StepEnv
    from playbook.runner.state import RunOptions


def tag_reason(
    step: Step,
    inherited: frozenset[str],
    playbook_tags: tuple[str, ...],
    options: RunOptions,
    *,
    in_finally: bool,
) -> str | None:
    """Why ``--tags``/``--skip-tags`` leave this step out, or None.

    A step's tags are its own and its enclosing control steps'. ``--skip-tags`` skips a
    step whose tags, or whose playbook's tags, match. ``--tags`` runs a playbook whose
    own tags match whole; otherwise it runs the steps whose tags match and every
    untagged step (the setup the tagged ones need). ``finally`` steps are cleanup:
    ``--tags`` never leaves them out (they are skipped anyway when their workflow was
    never created)."""
    own = set(step.tags) | inherited
    book = set(playbook_tags)
    skipped = options.skip_tags & (own | book)
    if skipped:
        return f"skipped by --skip-tags ({', '.join(sorted(skipped))})"
    if (
        options.tags
        and own
        and not in_finally
        and not options.tags & own
        and not options.tags & book
    ):
        return "not selected by --tags"
    return None


def skip_reason(step: Step, env: StepEnv, scope: Scope, *, in_finally: bool) -> str | None:
    """Why this step does not run, or None; evaluating ``when`` may raise a PlaybookError."""
    runner = env.runner
    reason = tag_reason(
        step, scope.tags, runner.playbook.tags, runner.shared.options, in_finally=in_finally
    )
    if reason is None and step.when is not None and not templating.truthy(env.evaluate(step.when)):
        reason = f"when was false ({step.when})"
    target = step.target
    if reason is None and in_finally and target is not None and target not in scope.stubs:
        reason = f"workflow '{target}' was never created in this run"
    if reason is None and step.kind in _CLOSING and target is not None and target in scope.stubs:
        stub = scope.stubs[target]
        never = getattr(stub, "is_new", False) and not getattr(stub, "started", True)
        if never and values.flag(
            env, step.fields.get("if_running", False), f"{step.kind}.if_running"
        ):
            reason = "never started"
    return reason


_CLOSING = ("cancel", "terminate")
"""With ``if_running``, these are skipped for a workflow that was created but never
started (a refused start, say): the cleanup pattern of SPEC section 11."""
