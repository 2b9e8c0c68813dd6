"""The README's commands and example stay true."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from playbook.loader import load

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def test_readme_opens_with_exactly_two_commands() -> None:
    blocks = re.findall(r"```bash\n(.*?)```", README, re.S)
    first_prose = README.index("`temporal-playbook` runs")
    opening = [b for b in blocks if README.index(b) < first_prose]
    assert [b.strip() for b in opening] == [
        "python3 -m venv .venv && . .venv/bin/activate && pip install -e . && "
        "playbook run playbooks/quickstart.yaml --dev-server --worker playbook.demo",
        "python3 -m venv .venv && . .venv/bin/activate && pip install -e '.[test]' && "
        "python -m pytest",
    ]
    ci = (ROOT / ".ci" / "run").read_text()
    assert "grep -m1 -E '^python3 -m venv .*playbook run ' README.md" in ci
    assert "grep -m1 -E '^python3 -m venv .*pytest' README.md" in ci


def test_readme_playbook_is_valid(tmp_path: Path) -> None:
    block = re.search(r"```yaml\n(.*?)```", README, re.S)
    assert block is not None
    path = tmp_path / "readme.yaml"
    path.write_text(block.group(1))
    assert yaml.safe_load(block.group(1))["name"] == "Order smoke test"
    assert [s.kind for s in load(path).steps] == [
        "create",
        "start",
        "signal",
        "query",
        "update",
        "await_result",
        "assert",
    ]
