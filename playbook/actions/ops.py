"""The ops actions of SPEC section 12 on workflows: ``batch`` (on the server's
batch-operation API, guarded by ``max_affected``) and ``reset`` of one workflow."""

from __future__ import annotations

from typing import Any

from playbook.actions.base import Call, Done
from playbook.core import batch as batches
from playbook.core import reset as resets
from playbook.errors import InvalidOptions


def _progress(call: Call) -> batches.Progress | None:
    """The run's live line, where its console has one (a terminal)."""
    progress = getattr(call.env, "progress", None)
    return progress if callable(progress) else None


async def batch(call: Call) -> dict[str, Any]:
    request, problems = batches.check(call.spec)
    if request is None:
        raise InvalidOptions(problems, what="batch")
    client = await call.env.client()
    return await batches.run(
        client, request, progress=_progress(call), listed=_ending(call, request)
    )


def _ending(call: Call, request: batches.BatchRequest) -> Any:
    """A batch that ends workflows ends them on purpose: ``verify`` must not count the ones
    this run started as failures (SPEC section 10), as for a ``terminate`` step."""
    expect = getattr(call.env, "expect_ended", None)
    if request.operation not in ("cancel", "terminate", "delete") or not callable(expect):
        return None
    return lambda found: expect(workflow_id for workflow_id, _ in found)


async def reset(call: Call) -> Done:
    spec = call.spec
    problems = [p for p in [resets.check_to(spec.get("to"))] if p]
    if not isinstance(spec.get("reason"), str) or not spec["reason"].strip():
        problems.append("reason: required, a non-empty string (it is kept in the history)")
    if problems:
        raise InvalidOptions(problems, what="reset")
    stub = call.env.stub(spec["workflow"])
    run_id = await resets.reset(
        stub, spec["to"], spec["reason"], reapply_signals=bool(spec.get("reapply_signals", True))
    )
    return Done({"workflow_id": stub.workflow_id, "run_id": run_id}, stub.workflow_id, run_id)
