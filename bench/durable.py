"""The durable section of ``bench/run.py`` (``--only durable``): the fan-out of
``bench/fanout.yaml`` (``count`` executions of ``EchoWorkflow``, ``concurrency`` at once)
run durably, its interpreter hosted by two ``playbook worker`` processes, beside the same
fan-out run locally, rounds in turn, on the same dev server and bench worker.

The durable figure is wall time from ``playbook run --durable`` to its exit (it follows
the run to the end): submission, the shards (10 of 100 items for 1,000 executions), every
call an activity, and the interpreter's workflow tasks, all on the same two cores as the
server. Functions here take the driver's helpers as arguments, so that this module does
not import ``bench/run.py`` (which runs as ``__main__``).
"""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

SIZES = {"full": {"count": 1000, "rounds": 2}, "quick": {"count": 200, "rounds": 1}}
CONCURRENCY = 50
WORKERS = 2


@contextmanager
def interpreter_workers(
    address: str, queue: str, command: Callable[..., list[str]], env: dict[str, str], cwd: str
) -> Iterator[None]:
    """``WORKERS`` ``playbook worker`` processes polling ``queue``, for the block."""
    workers = [
        subprocess.Popen(
            command("worker", "--address", address, "--task-queue", queue),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
            cwd=cwd,
        )
        for _ in range(WORKERS)
    ]
    try:
        for worker in workers:
            assert worker.stdout is not None
            line = worker.stdout.readline()
            if "polling task queue" not in line:
                raise RuntimeError(f"a playbook worker did not start: {line}{worker.stdout.read()}")
        yield
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            try:
                worker.wait(15)
            except subprocess.TimeoutExpired:
                worker.kill()


def bench_durable(
    address: str,
    mode: str,
    command: Callable[..., list[str]],
    local: Callable[[int], float],
    env: dict[str, str],
    cwd: str,
) -> dict[str, Any]:
    """Wall seconds of the durable and the local fan-out, the best of the rounds each."""
    size = SIZES[mode]
    count = int(size["count"])
    queue = f"playbook-bench-durable-{uuid.uuid4().hex[:6]}"
    inputs = ["-i", f"count={count}", "-i", f"concurrency={CONCURRENCY}"]
    submit = ["run", "bench/fanout.yaml", "--durable", "--task-queue", queue]
    submit += ["--address", address, "-q", *inputs]
    samples: dict[str, list[float]] = {"durable": [], "local": []}
    with interpreter_workers(address, queue, command, env, cwd):
        for index in range(int(size["rounds"])):
            for name in ("durable", "local") if index % 2 == 0 else ("local", "durable"):
                if name == "local":
                    samples[name].append(local(count))
                    continue
                samples[name].append(_timed(command(*submit), env, cwd))
                print(f"    durable fan-out {count}: {samples[name][-1]:.1f}s", flush=True)
    best = {name: min(values) for name, values in samples.items()}
    return {
        "count": count,
        "concurrency": CONCURRENCY,
        "workers": WORKERS,
        "samples_s": samples,
        "durable_s": best["durable"],
        "local_s": best["local"],
        "durable_per_second": count / best["durable"],
        "local_per_second": count / best["local"],
        "durable_over_local": best["durable"] / best["local"],
    }


def _timed(command: Sequence[str], env: dict[str, str], cwd: str) -> float:
    began = time.perf_counter()
    done = subprocess.run(list(command), capture_output=True, text=True, env=env, cwd=cwd)
    wall = time.perf_counter() - began
    if done.returncode != 0:
        raise RuntimeError(f"the durable fan-out exited {done.returncode}:\n{done.stdout[-3000:]}")
    return wall


def table_lines(d: dict[str, Any]) -> list[str]:
    return [
        "",
        f"durable: fan-out of {d['count']} executions at concurrency {d['concurrency']}, "
        f"{d['workers']} playbook workers",
        f"  local    {d['local_s']:7.1f}s  {d['local_per_second']:6.1f}/s",
        f"  durable  {d['durable_s']:7.1f}s  {d['durable_per_second']:6.1f}/s  "
        f"({d['durable_over_local']:.1f}x the local run's time)",
    ]
