"""The HTML report: its data (lanes, parents, masking, cut values), and the page itself in
a real headless Chromium: the step names drawn by its script, a screenshot that is not
blank, a 10,000-step run that stays small on screen."""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
import sys
import zlib
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from playbook.records import RunResult, StepRecord
from playbook.report.html import VALUE_LIMIT, html_report, lanes, parents, report_data
from playbook.secrets import Masker

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
UI = "http://localhost:8233/namespaces/default/workflows"
START = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)


def at(seconds: float) -> str:
    return (START + timedelta(seconds=seconds)).isoformat()


def step(path: str, name: str, start: float | None, duration: float, **more: object) -> StepRecord:
    record = StepRecord(
        path=path,
        action=str(more.pop("action", "log")),
        name=name,
        status=str(more.pop("status", "passed")),
        started_at=None if start is None else at(start),
        duration=duration,
        attempts=1,
        line=int(str(more.pop("line", 5))),
        file="orders.yaml",
    )
    for key, value in more.items():
        setattr(record, key, value)
    return record


def sample_run() -> RunResult:
    """A run with a parallel of two branches, a foreach of three items at concurrency 2
    (one fails) and a skipped step."""
    run = RunResult(
        playbook="Order smoke test",
        path="orders.yaml",
        run_id="3f2a9c1b7d4e",
        started_at=at(0),
        status="failed",
        exit_code=1,
        duration=4.0,
        address="localhost:7233",
        namespace="default",
        masker=Masker(["hunter2-secret"]),
    )
    run.records = [
        step(
            "steps[0]",
            "start order workflow",
            0.0,
            0.5,
            action="start",
            workflow_id="order-1",
            run_id="0b5e7c",
            ui_link=f"{UI}/order-1/0b5e7c/history",
            request={"workflow": "order", "args": ["hunter2-secret", "</script><b>x</b>"]},
            result={"run_id": "0b5e7c"},
        ),
        step("steps[1]", "parallel", 0.5, 1.0, action="parallel"),
        step("steps[1].parallel.steps[0]", "signal approve", 0.5, 0.4, action="signal"),
        step("steps[1].parallel.steps[1]", "query status", 0.5, 1.0, action="query"),
        step("steps[2]", "foreach", 1.5, 2.0, action="foreach", status="failed"),
        step("steps[2].foreach[0].steps[0]", "pay item", 1.5, 0.8, action="update"),
        step("steps[2].foreach[1].steps[0]", "pay item", 1.5, 1.0, action="update"),
        step(
            "steps[2].foreach[2].steps[0]",
            "pay item",
            2.3,
            1.2,
            action="update",
            status="failed",
            workflow_id="order-1",
            ui_link=f"{UI}/order-1/0b5e7c/history",
            error={
                "type": "ApplicationError",
                "message": "update 'pay' failed: card declined",
                "causes": [
                    {"type": "ActivityError", "message": "Activity task failed"},
                    {"type": "ApplicationError", "message": "card declined"},
                ],
            },
        ),
        step(
            "steps[3]",
            "check totals",
            None,
            0.0,
            action="assert",
            status="skipped",
            reason="an earlier step failed",
        ),
    ]
    run.records[0].logs = ["started order-1 for hunter2-secret"]
    return run


def test_parents_and_items() -> None:
    assert parents(sample_run().records) == [
        (None, None),
        (None, None),
        (1, None),
        (1, None),
        (None, None),
        (4, 0),
        (4, 1),
        (4, 2),
        (None, None),
    ]


def test_lanes_pack_units_by_time() -> None:
    run = sample_run()
    starts = [None if r.started_at is None else 0.0 for r in run.records]
    data = report_data([run])["runs"][0]
    # the two branches overlap: two lanes; items 0 and 1 overlap, item 2 starts when 0 ended
    assert [s["lane"] for s in data["steps"]] == [0, 0, 1, 2, 0, 1, 2, 1, 0]
    assert data["lanes"] == 3
    assert data["lane_labels"] == [
        "steps",
        "steps[1].parallel.steps[0] +2",
        "steps[1].parallel.steps[1] +1",
    ]
    assert len(lanes(run.records, starts)) == len(run.records)


def test_a_foreach_of_500_at_concurrency_50_has_50_lanes() -> None:
    records = [StepRecord(path="steps[0]", action="foreach", name="foreach", duration=10.0)]
    starts: list[float | None] = [0.0]
    for item in range(500):
        records.append(
            StepRecord(
                path=f"steps[0].foreach[{item}].steps[0]",
                action="start",
                name="start",
                duration=1.0,
            )
        )
        starts.append(float(item // 50))
    assigned = lanes(records, starts)
    assert assigned[0] == 0
    assert sorted(set(assigned[1:])) == list(range(1, 51))


def test_the_page_holds_masked_escaped_and_cut_values() -> None:
    run = sample_run()
    run.records[0].result = {"blob": "y" * (VALUE_LIMIT + 10)}
    page = html_report([run])
    assert "hunter2-secret" not in page
    script = re.search(
        r'<script id="report-data" type="application/json">(.*?)</script>', page, re.S
    )
    assert script is not None
    assert "</script" not in script.group(1) and "<" not in script.group(1)
    data = json.loads(script.group(1))
    first = data["runs"][0]["steps"][0]
    assert json.loads(first["request"]) == {
        "workflow": "order",
        "args": ["***", "</script><b>x</b>"],
    }
    assert first["result"].endswith("\n... (26 more characters: the JSON report has it all)")
    assert first["logs"] == ["started order-1 for ***"]
    failed = data["runs"][0]["steps"][7]
    assert failed["error"] == {
        "type": "ApplicationError",
        "message": "update 'pay' failed: card declined",
        "chain": [
            "caused by ActivityError: Activity task failed",
            "caused by ApplicationError: card declined",
        ],
        "details": None,
    }
    assert (failed["took"], failed["start"], failed["file"], failed["line"]) == (
        "1.2s",
        2.3,
        "orders.yaml",
        5,
    )
    # nothing is fetched: no URL the browser would load by itself
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)


# -- in a real browser ----------------------------------------------------------------------


def chromium() -> str:
    if os.path.exists(CHROMIUM):
        return CHROMIUM
    reason = (
        f"Chromium is not installed ({CHROMIUM}): the HTML report cannot be checked in a "
        "browser; install it with `apt-get install -y chromium` (.ci/run does)"
    )
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def browse(
    page: Path, tmp_path: Path, *extra: str, fragment: str = ""
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--window-size=1280,900",
            *extra,
            page.as_uri() + fragment,
        ],
        capture_output=True,
        text=True,
        timeout=90,
    )


def png_pixels(path: Path) -> tuple[int, int, list[bytes]]:
    """Width, height and rows of RGB(A) pixels of an 8-bit, non-interlaced PNG."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, chunks, header = 8, [], b""
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            chunks.append(body)
        position += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", header[:10])
    assert depth == 8 and colour in (2, 6)
    size = 3 if colour == 2 else 4
    raw = zlib.decompress(b"".join(chunks))
    stride = width * size
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        kind, line = (
            raw[y * (stride + 1)],
            bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)]),
        )
        for x in range(stride):
            left = line[x - size] if x >= size else 0
            up = previous[x]
            corner = previous[x - size] if x >= size else 0
            if kind == 1:
                line[x] = (line[x] + left) & 0xFF
            elif kind == 2:
                line[x] = (line[x] + up) & 0xFF
            elif kind == 3:
                line[x] = (line[x] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                pick = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[x] = (line[x] + pick) & 0xFF
        rows.append(
            bytes(line) if size == 3 else bytes(b for i, b in enumerate(line) if i % 4 != 3)
        )
        previous = line
    return width, height, rows


def colours(rows: list[bytes]) -> set[tuple[int, int, int]]:
    return {(row[i], row[i + 1], row[i + 2]) for row in rows for i in range(0, len(row), 3)}


def test_the_report_in_headless_chromium(tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(html_report([sample_run()]), encoding="utf-8")
    dom = browse(page, tmp_path, "--dump-dom")
    assert dom.returncode == 0, dom.stderr
    assert 'data-drawn="yes"' in dom.stdout  # the page's script ran to its end
    for name in (
        "start order workflow",
        "signal approve",
        "query status",
        "pay item",
        "check totals",
    ):
        assert f'<span class="name">{name}</span>' in dom.stdout, name
    assert dom.stdout.count('class="bar ') == 8  # every step that ran, on the timeline
    # the failure is open, with its error chain and UI link
    assert (
        "update 'pay' failed: card declined\ncaused by ActivityError: Activity task failed"
        in dom.stdout
    )
    assert f'href="{UI}/order-1/0b5e7c/history"' in dom.stdout
    assert "hunter2-secret" not in dom.stdout
    shot = tmp_path / "report.png"
    done = browse(page, tmp_path, f"--screenshot={shot}")
    assert done.returncode == 0 and shot.exists(), done.stderr
    width, height, rows = png_pixels(shot)
    assert (width, height) == (1280, 900)
    seen = colours(rows)
    assert len(seen) > 50  # text, badges and bars: not a blank page
    # the status colours of the badges and bars: passed and failed steps are drawn
    for rgb in ((0x1A, 0x7F, 0x37), (0xCF, 0x22, 0x2E)):
        assert rgb in seen, rgb


def test_a_10000_step_run_in_headless_chromium(tmp_path: Path) -> None:
    run = RunResult(
        playbook="fan-out",
        path="fan.yaml",
        run_id="r",
        started_at=at(0),
        duration=200.0,
        status="failed",
        exit_code=1,
    )
    run.records.append(
        StepRecord(
            path="steps[0]",
            action="foreach",
            name="foreach",
            status="failed",
            started_at=at(0),
            duration=200.0,
        )
    )
    for item in range(5000):
        begin = float(item // 50) * 2
        for index, name in enumerate(("start order", "await order")):
            run.records.append(
                step(
                    f"steps[0].foreach[{item}].steps[{index}]",
                    name,
                    begin + index,
                    1.0,
                    action="start",
                    status="failed" if item == 4321 and index else "passed",
                )
            )
    page = tmp_path / "big.html"
    page.write_text(html_report([run]), encoding="utf-8")
    assert page.stat().st_size < 12_000_000
    dom = browse(page, tmp_path, "--dump-dom")
    assert dom.returncode == 0, dom.stderr
    assert 'data-drawn="yes"' in dom.stdout
    # collapsed: the first items and the failed one are drawn, the rest behind a button
    assert "show the other 4989 of 5000 items" in dom.stdout
    assert 'data-item="0:4321"' in dom.stdout
    assert dom.stdout.count('class="lane"') == 51
    # a link to one step opens it, drawing the collapsed item it is in (step 9001: item 4500)
    linked = browse(page, tmp_path, "--dump-dom", fragment="#step-0-9001")
    assert linked.returncode == 0, linked.stderr
    opened = re.search(r'<details class="step[^"]*"[^>]*id="step-0-9001"[^>]*>', linked.stdout)
    assert opened is not None
    assert "open" in opened.group(0) and 'data-revealed="yes"' in opened.group(0)
    assert '<button class="more"' not in linked.stdout  # every item is listed now


def test_run_writes_the_html_report(tmp_path: Path) -> None:
    (tmp_path / "gate.yaml").write_text(
        'version: 1\nname: gate\nsteps:\n  - log: checking\n  - id: check\n    assert: "1 == 2"\n',
        encoding="utf-8",
    )
    done = subprocess.run(
        [sys.executable, "-m", "playbook", "run", "gate.yaml", "--html-report", "out/r.html"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1, done.stderr
    page = (tmp_path / "out" / "r.html").read_text(encoding="utf-8")
    script = re.search(r'type="application/json">(.*?)</script>', page, re.S)
    assert script is not None
    run = json.loads(script.group(1))["runs"][0]
    assert [(s["name"], s["status"], s["line"]) for s in run["steps"]] == [
        ("log", "passed", 4),
        ("assert check", "failed", 5),
    ]
    assert run["steps"][1]["error"]["message"] == "assertion failed: 1 == 2  (1 == 2)"
    # "-": standard output holds the page, the console goes to standard error
    piped = subprocess.run(
        [sys.executable, "-m", "playbook", "run", "gate.yaml", "--html-report", "-"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert piped.stdout.startswith("<!DOCTYPE html>")
    assert piped.stderr.splitlines()[-1].startswith("failed: gate: 1 passed, 1 failed in ")
