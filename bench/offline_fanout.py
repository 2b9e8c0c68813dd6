"""The fan-out's client-side Python work per execution, without a server.

``python bench/offline_fanout.py [COUNT] [TREE...]`` runs ``bench/fanout.yaml`` (the
playbook of this tree, and of each TREE given: ``git worktree add /tmp/bench-before
<commit>``) and ``bench/raw_fanout.py`` in processes of their own, each against an
in-process fake of temporalio's service calls: a start answers with a run id, a result read
with a completed history, at once (no network, no Rust thread). Each contender runs COUNT
executions (default 2,000), five times, in rounds, the order reversed every round; the
figure is the main thread's CPU per execution (``time.thread_time``), the same command at
``count=0`` taken away, the lowest round of each.

What it measures is the Python work a contender does per execution: the runner, the
actions, the core and temporalio's client code. On a real server each unit of it costs
more (``bench/run.py --only scale`` measures that), but a change that removes work shows
here, where the figures of two runs agree within about 5 % on a busy machine on which the
real fan-out's CPU varies by 20 % and more: a change can be weighed here in a minute
(docs/performance.md).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def _fake_service() -> None:
    """Answer temporalio's service calls in this process, at once."""
    import asyncio
    import uuid

    import temporalio.api.enums.v1 as enums
    import temporalio.api.history.v1 as history
    import temporalio.api.taskqueue.v1 as taskqueue
    import temporalio.converter
    import temporalio.service as service
    from google.protobuf.timestamp_pb2 import Timestamp

    result = temporalio.converter.DataConverter.default.payload_converter.to_payloads([[1]])
    completed = enums.EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED

    async def connect(config: Any) -> Any:
        return service._BridgeServiceClient(config)

    async def rpc(self: Any, rpc: str, req: Any, resp_type: Any, **_: Any) -> Any:
        req.SerializeToString()  # (what the bridge does with it)
        await asyncio.sleep(0)
        resp = resp_type()
        if rpc == "start_workflow_execution":
            resp.run_id = str(uuid.uuid4())
        elif rpc == "get_workflow_execution_history":
            event = history.HistoryEvent(event_id=5, event_type=completed)
            event.workflow_execution_completed_event_attributes.result.payloads.extend(result)
            resp.history.events.append(event)
        elif rpc == "describe_task_queue":  # the preflight: a worker polls
            polled = Timestamp()
            polled.GetCurrentTime()
            resp.pollers.append(taskqueue.PollerInfo(identity="fake", last_access_time=polled))
        return resp_type.FromString(resp.SerializeToString())

    service._BridgeServiceClient.connect = staticmethod(connect)  # type: ignore[method-assign]
    service._BridgeServiceClient._rpc_call = rpc  # type: ignore[method-assign]


def _contender(which: str, count: int, rounds: int) -> None:
    """In the child: run ``which`` (``playbook`` or ``sdk``) and print its figures."""
    import asyncio
    import time

    _fake_service()
    report = Path(os.environ.get("TMPDIR", "/tmp")) / f"offline-fanout-{os.getpid()}.json"
    if which == "sdk":
        sys.path.insert(0, str(HERE))
        import raw_fanout

        def go(n: int) -> None:
            asyncio.run(raw_fanout.main("127.0.0.1:1", n, 50))

    else:
        from playbook import cli
        from playbook.commands.collector import tune_this_process

        tune_this_process()  # (as the console script does)

        def go(n: int) -> None:
            args = ["run", str(HERE / "fanout.yaml"), "--address", "127.0.0.1:1", "-q"]
            args += ["-i", f"count={n}", "-i", "concurrency=50", "--json-report", str(report)]
            if cli._run_cli(args) != 0:
                raise SystemExit(f"the fan-out failed: {report.read_text()[:2000]}")

    go(5)  # warm-up: imports, caches
    figures = []
    for _ in range(rounds):
        began = time.thread_time()
        go(count)
        busy = time.thread_time() - began
        began = time.thread_time()
        go(0)
        figures.append((busy - (time.thread_time() - began)) / count * 1e3)
    report.unlink(missing_ok=True)
    print(json.dumps({"ms": min(figures), "rounds": figures}), file=sys.stderr, flush=True)
    sys.stdout.flush()
    os._exit(0)  # temporalio's native threads can crash a normal interpreter exit


def measure(count: int, trees: dict[str, Path], rounds: int = 5) -> dict[str, float]:
    """Main-thread CPU ms per execution of each tree's playbook and of the SDK script."""
    contenders = [(name, "playbook", tree) for name, tree in trees.items()]
    contenders.append(("sdk", "sdk", ROOT))
    samples: dict[str, list[float]] = {name: [] for name, _, _ in contenders}
    for index in range(rounds):
        for name, which, tree in contenders if index % 2 == 0 else contenders[::-1]:
            env = {**os.environ, "PYTHONPATH": str(tree)}
            done = subprocess.run(
                [sys.executable, __file__, "--child", which, str(count)],
                capture_output=True,
                text=True,
                env=env,
                cwd=tree,
            )
            if done.returncode != 0:
                raise SystemExit(f"{name} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
            samples[name].append(json.loads(done.stderr.strip().splitlines()[-1])["ms"])
    return {name: min(values) for name, values in samples.items()}


def main(argv: list[str]) -> None:
    if argv[:1] == ["--child"]:
        _contender(argv[1], int(argv[2]), 1)
        return
    count = int(argv[0]) if argv else 2000
    trees = {"playbook": ROOT, **{Path(t).name: Path(t).resolve() for t in argv[1:]}}
    figures = measure(count, trees)
    for name, ms in figures.items():
        print(f"{name:>16}: {ms:.3f} ms per execution ({ms / figures['sdk']:.2f}x the SDK's)")


if __name__ == "__main__":
    main(sys.argv[1:])
