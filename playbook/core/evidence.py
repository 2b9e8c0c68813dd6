"""Evidence: ``--history-dir DIR`` keeps the history of every workflow a failed step
targeted, as Temporal's JSON history (what ``temporal workflow show --output json`` prints
and ``temporalio.worker.Replayer`` reads), so that a failure can be read and replayed later.

:func:`write_histories` runs after a run's steps: one file per execution,
``DIR/<workflow_id>.<run_id>.json`` with both ids percent-encoded (a ``/`` in a workflow id
cannot escape DIR), named on each failed step's record (``history``). A history that cannot
be fetched or written is a warning, never a failure of the run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import quote

import temporalio.client

from playbook.core.errors import short_reason
from playbook.records import StepRecord

FAILED = ("failed", "error")
_FETCH_TIMEOUT = 15.0  # seconds per history: a server that hangs must not hold the reports


def history_path(directory: str | Path, workflow_id: str, run_id: str) -> Path:
    """Where the history of that execution goes under ``directory``."""
    return Path(directory) / f"{quote(workflow_id, safe='')}.{quote(run_id, safe='')}.json"


async def write_histories(
    client: temporalio.client.Client, records: Iterable[StepRecord], directory: str | Path
) -> list[str]:
    """Write the history of each execution that a failed record in ``records`` targets,
    once each, and name the file on those records; the warnings (one a history missed)."""
    targets: dict[tuple[str, str | None], list[StepRecord]] = {}
    for record in records:
        if record.status in FAILED and record.workflow_id:
            targets.setdefault((record.workflow_id, record.run_id), []).append(record)
    warnings: list[str] = []
    for (workflow_id, run_id), failed in targets.items():
        try:
            path = await asyncio.wait_for(
                _write(client, directory, workflow_id, run_id), _FETCH_TIMEOUT
            )
        except asyncio.TimeoutError:
            reason = f"no answer within {_FETCH_TIMEOUT:g}s"
        except OSError as e:
            reason = f"it could not be written: {e.strerror or e}"
        except Exception as e:  # the server refused: not found, no permission, gone away
            reason = short_reason(getattr(e, "message", None) or str(e) or type(e).__name__)
        else:
            for record in failed:
                record.history = str(path)
            continue
        run = f" (run {run_id})" if run_id else ""
        warnings.append(
            f"--history-dir: the history of workflow '{workflow_id}'{run} was not saved: {reason}"
        )
    return warnings


async def _write(
    client: temporalio.client.Client, directory: str | Path, workflow_id: str, run_id: str | None
) -> Path:
    handle = client.get_workflow_handle(workflow_id, run_id=run_id)
    if run_id is None:  # a step that failed before it learnt the run: the latest one
        run_id = (await handle.describe()).run_id
        handle = client.get_workflow_handle(workflow_id, run_id=run_id)
    history = await handle.fetch_history()
    path = history_path(directory, workflow_id, run_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(history.to_json() + "\n", encoding="utf-8")
    return path


__all__ = ["FAILED", "history_path", "write_histories"]
