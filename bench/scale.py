"""The scale section of ``bench/run.py`` (``--only scale``): how cost grows with the work.

* peak RSS of an offline ``foreach`` of ``set`` + ``log`` (``bench/memory.yaml``) with both
  ``--json-report`` and ``--junit-xml``, at 10,000, 20,000 and 100,000 items (``--quick``:
  2,000, 4,000 and 20,000), so that the growth per item shows, and the largest size's figure
  against the 20,000-item one (the goal: at most 1.5x, and at most 250 MB);
* the fan-out's client CPU per workflow execution, playbook against the temporalio script,
  rounds in turn (the order reversed every round) with the same command at ``count=0`` taken
  away (start-up, connection, report).

Functions here take the driver's helpers as arguments, so that this module does not import
``bench/run.py`` (which runs as ``__main__``).
"""

from __future__ import annotations

import json
import resource
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

SIZES: dict[str, dict[str, Any]] = {
    "full": {"items": (10_000, 20_000, 100_000), "fanout": 500, "rounds": 3},
    "quick": {"items": (2_000, 4_000, 20_000), "fanout": 150, "rounds": 1},
}
CONCURRENCY = 100
"""The foreach's concurrency (as the memory section's)."""


class Tree:
    """A source tree whose ``playbook`` runs as a contender: this one, or ``--before DIR``
    (e.g. ``git worktree add /tmp/bench-before <commit>``) for a comparison in one run."""

    def __init__(self, root: Path, env: Callable[[], dict[str, str]], python: str) -> None:
        self.root, self._env, self.python = root, env, python

    def env(self) -> dict[str, str]:
        env = self._env()
        env["PYTHONPATH"] = str(self.root)
        return env

    def run(self, command: Sequence[str]) -> tuple[str, float]:
        """Run a command in this tree: its stdout, and its CPU seconds (user + system)."""
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        done = subprocess.run(
            list(command), capture_output=True, text=True, env=self.env(), cwd=self.root
        )
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if done.returncode != 0:
            raise RuntimeError(
                f"{' '.join(command[:6])}... exited {done.returncode} in {self.root}:\n"
                f"{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
            )
        cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
        return done.stdout, cpu

    def peak_rss_mb(self, args: Sequence[str]) -> tuple[float, float]:
        """Peak RSS (MB) and wall seconds of ``python -m playbook ARGS`` in this tree, from
        a fresh Python in between, so that RUSAGE_CHILDREN sees that one child only."""
        probe = (
            "import resource, subprocess, sys, time; t = time.perf_counter(); "
            "rc = subprocess.run(sys.argv[1:]).returncode; w = time.perf_counter() - t; "
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, w); sys.exit(rc)"
        )
        out, _ = self.run([self.python, "-c", probe, self.python, "-m", "playbook", *args])
        kilobytes, seconds = out.split()[-2:]
        return int(kilobytes) / 1024, float(seconds)

    def fanout(self, address: str, count: int, concurrency: int) -> dict[str, float]:
        with tempfile.TemporaryDirectory() as tmp:
            report = Path(tmp) / "report.json"
            _, cpu = self.run(
                [
                    self.python,
                    "-m",
                    "playbook",
                    "run",
                    "bench/fanout.yaml",
                    "--address",
                    address,
                    "-q",
                    "--json-report",
                    str(report),
                    "-i",
                    f"count={count}",
                    "-i",
                    f"concurrency={concurrency}",
                ]
            )
            run = json.loads(report.read_text())["runs"][0]
        if run["status"] != "passed":
            raise RuntimeError(f"fan-out in {self.root}: {run['status']}: {run['error']}")
        return {"run": float(run["duration"]), "cpu": cpu}

    def sdk(self, address: str, count: int, concurrency: int) -> dict[str, float]:
        out, cpu = self.run(
            [self.python, "bench/raw_fanout.py", address, str(count), str(concurrency)]
        )
        return {"run": float(json.loads(out)["duration"]), "cpu": cpu}


def bench_scale(address: str, mode: str, trees: dict[str, Tree]) -> dict[str, Any]:
    """``trees``: ``{"playbook": this tree}``, and ``"before"`` when given."""
    size = SIZES[mode]
    memory: dict[str, dict[str, dict[str, float]]] = {name: {} for name in trees}
    with tempfile.TemporaryDirectory() as tmp:
        json_report, junit = Path(tmp) / "report.json", Path(tmp) / "junit.xml"
        for items in size["items"]:
            for name, tree in trees.items():
                mb, wall = tree.peak_rss_mb(
                    [
                        "run",
                        "bench/memory.yaml",
                        "-q",
                        "--json-report",
                        str(json_report),
                        "--junit-xml",
                        str(junit),
                        "-i",
                        f"count={items}",
                        "-i",
                        f"concurrency={CONCURRENCY}",
                    ]
                )
                steps = len(json.loads(json_report.read_text())["runs"][0]["steps"])
                if steps != 2 * items + 1:
                    raise RuntimeError(
                        f"a {items}-item report has {steps} steps, not {2 * items + 1}"
                    )
                memory[name][str(items)] = {"peak_rss_mb": mb, "wall_s": wall}
                print(
                    f"    {name}: foreach {items} x (set, log), both reports: {mb:.0f} MB in {wall:.1f}s",
                    flush=True,
                )
    middle, large = (str(n) for n in size["items"][1:])
    ours = memory["playbook"]
    return {
        "concurrency": CONCURRENCY,
        "memory": memory,
        "largest_mb": ours[large]["peak_rss_mb"],
        "largest_over_middle": ours[large]["peak_rss_mb"] / ours[middle]["peak_rss_mb"],
        "middle_items": int(middle),
        "largest_items": int(large),
        "fanout": fanout_cpu(address, size["fanout"], size["rounds"], trees),
    }


def fanout_cpu(
    address: str, count: int, rounds: int, trees: dict[str, Tree], concurrency: int = 50
) -> dict[str, Any]:
    """Client CPU per execution (ms) and throughput (per second in the run) of the fan-out:
    each tree's playbook and the SDK script, the lowest CPU and the fastest round of each,
    the CPU of the same command at ``count=0`` (start-up, connection, report) taken away."""
    here = trees["playbook"]

    def runs(tree: Tree) -> Callable[[int], dict[str, float]]:
        return lambda n: tree.fanout(address, n, concurrency)

    contenders = {name: runs(tree) for name, tree in trees.items()}
    contenders["sdk"] = lambda n: here.sdk(address, n, concurrency)
    contenders["sdk"](50)  # warm-up: the task queue, the worker's caches
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in contenders}
    idle: dict[str, list[float]] = {name: [] for name in contenders}
    names = list(contenders)
    for index in range(max(1, rounds)):
        for name in names if index % 2 == 0 else list(reversed(names)):
            samples[name].append(contenders[name](count))
            idle[name].append(contenders[name](0)["cpu"])
            print(
                f"    fan-out {name}: {samples[name][-1]}, idle cpu {idle[name][-1]:.3f}s",
                flush=True,
            )
    cpu_ms = {
        name: (min(s["cpu"] for s in samples[name]) - min(idle[name])) / count * 1e3
        for name in contenders
    }
    rate = {name: count / min(s["run"] for s in samples[name]) for name in contenders}
    out: dict[str, Any] = {
        "count": count,
        "concurrency": concurrency,
        "samples": samples,
        "idle_cpu_s": idle,
        "cpu_ms_per_execution": cpu_ms,
        "per_second": rate,
    }
    for name in trees:
        out[f"cpu_{name}_over_sdk"] = cpu_ms[name] / cpu_ms["sdk"]
        out[f"{name}_over_sdk"] = rate[name] / rate["sdk"]
    out["cpu_a_over_b"] = out["cpu_playbook_over_sdk"]
    out["a_over_b"] = out["playbook_over_sdk"]
    return out


def table_lines(s: dict[str, Any]) -> list[str]:
    lines = ["", f"scale: foreach (set, log) at concurrency {s['concurrency']}, both reports"]
    for name, rows in s["memory"].items():
        for items, row in rows.items():
            lines.append(
                f"  {name:9} {int(items):>7} items  {row['peak_rss_mb']:6.0f} MB  ({row['wall_s']:.1f}s)"
            )
    lines.append(
        f"  {s['largest_items']} / {s['middle_items']} items: {s['largest_over_middle']:.2f}x"
    )
    f = s["fanout"]
    lines.append(f"  fan-out N={f['count']}, concurrency {f['concurrency']}:")
    for name, cpu in f["cpu_ms_per_execution"].items():
        ratio = (
            ""
            if name == "sdk"
            else (
                f"  ({f[f'cpu_{name}_over_sdk']:.2f}x SDK CPU, throughput {f[f'{name}_over_sdk']:.2f}x)"
            )
        )
        lines.append(f"    {name:9} client CPU per execution {cpu:.2f} ms{ratio}")
    return lines
