"""The README's quickstart (``--dev-server --worker playbook.demo``) passes whatever Temporal
settings the shell holds: the embedded server replaces the connection wholesale, so an API
key, TLS or a cloud profile from the environment never reaches it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from playbook.devserver import env_without_temporal

ROOT = Path(__file__).resolve().parents[2]
CLOUD_PROFILE = """\
[profile.cloud]
address = "my-ns.a2b3c.tmprl.cloud:7233"
namespace = "my-ns.a2b3c"
api_key = "profile-key"
[profile.cloud.tls]
disabled = false
"""


@pytest.mark.integration
@pytest.mark.parametrize(
    "settings",
    [
        {"TEMPORAL_API_KEY": "secret-key"},
        {"TEMPORAL_TLS": "true", "TEMPORAL_NAMESPACE": "elsewhere"},
        {"TEMPORAL_PROFILE": "cloud", "TEMPORAL_CONFIG_FILE": "{config}"},
    ],
    ids=["api-key", "tls", "profile"],
)
def test_quickstart_on_the_dev_server_ignores_temporal_settings(
    tmp_path: Path, settings: dict[str, str]
) -> None:
    config = tmp_path / "temporal.toml"
    config.write_text(CLOUD_PROFILE)
    env = {**env_without_temporal(), **{k: v.format(config=config) for k, v in settings.items()}}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "playbook",
            "run",
            "playbooks/quickstart.yaml",
            "--dev-server",
            "--worker",
            "playbook.demo",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    last = output.splitlines()[-1]
    assert last.startswith("passed: Quickstart: 17 passed in "), output
    assert last.endswith(" (exit 0)")
    assert "secret-key" not in output and "profile-key" not in output
