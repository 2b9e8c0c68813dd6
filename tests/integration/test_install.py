"""The built wheel, installed (not editable) into a fresh virtualenv, works from another
directory: the schema ships inside it and the dev server binary is found from the install."""

from __future__ import annotations

import os
import site
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with our wheel; the dependencies come from this environment through a
    .pth file, so nothing is downloaded."""
    base = tmp_path_factory.mktemp("install")
    wheels = base / "wheels"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(wheels),
            str(ROOT),
        ],
        check=True,
        timeout=300,
    )
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        text=True,
        capture_output=True,
    ).stdout.strip()
    Path(purelib, "deps.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    wheel = next(wheels.glob("temporal_playbook-*.whl"))
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-deps",
            "-q",
            str(wheel),
        ],
        check=True,
        timeout=300,
    )
    return python


def test_wheel_has_schema_and_finds_the_server(installed: Path, tmp_path: Path) -> None:
    script = textwrap.dedent("""\
        import sys, playbook, playbook.core, playbook.schema, playbook.devserver
        from pathlib import Path
        print(Path(playbook.__file__).is_relative_to(sys.prefix))
        print(playbook.schema.schema()["$id"])
        print(playbook.devserver.temporal_cli().name)
        """)
    out = subprocess.run(
        [str(installed), "-c", script],
        cwd=tmp_path,
        check=True,
        text=True,
        capture_output=True,
        timeout=60,
    ).stdout.splitlines()
    assert out == ["True", "https://temporal-playbook.dev/schemas/playbook.schema.json", "temporal"]
    packaged = subprocess.run(
        [
            str(installed),
            "-c",
            "import importlib.resources as r; "
            "print(r.files('playbook').joinpath('playbook.schema.json').is_file())",
        ],
        cwd=tmp_path,
        check=True,
        text=True,
        capture_output=True,
        timeout=60,
    ).stdout.strip()
    assert packaged == "True"


def test_quickstart_from_another_directory(installed: Path, tmp_path: Path) -> None:
    quickstart = ROOT / "playbooks" / "quickstart.yaml"
    if not quickstart.exists():
        pytest.fail("playbooks/quickstart.yaml is missing")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEMPORAL_")}
    result = subprocess.run(
        [
            str(installed.parent / "playbook"),
            "run",
            str(quickstart),
            "--dev-server",
            "--worker",
            "playbook.demo",
        ],
        cwd=tmp_path,
        text=True,
        capture_output=True,
        timeout=180,
        env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "passed: " in result.stdout


def test_the_html_report_template_ships(installed: Path, tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text("version: 1\nname: p\nsteps:\n  - log: hello\n")
    result = subprocess.run(
        [str(installed.parent / "playbook"), "run", "p.yaml", "--html-report", "r.html"],
        cwd=tmp_path,
        text=True,
        capture_output=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert '"name":"log","id":null,"action":"log","status":"passed"' in page
