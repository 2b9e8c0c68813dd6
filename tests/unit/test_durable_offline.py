"""Durable runs offline: sealing, what a run carries (files as text, inputs, the
environment its templates read), the model rebuilt from text, results as plain data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from playbook.durable import sealing
from playbook.durable.environ import env_names
from playbook.durable.state import StubState, result_data, result_from
from playbook.durable.texts import opened, playbook_from_tree, run_input, tree_of
from playbook.errors import UsageError
from playbook.loader import load
from playbook.records import RunResult, StepRecord
from playbook.secrets import Masker

KEY = b"k" * 32


def _playbook(tmp_path: Path, steps: str, name: str = "main.yaml", head: str = "") -> Path:
    path = tmp_path / name
    path.write_text(f"version: 1\nname: t\n{head}steps:\n{steps}")
    return path


def test_a_sealed_value_opens_with_its_key_only() -> None:
    sealed = sealing.seal(KEY, {"token": "abc123"})
    assert list(sealed) == ["sealed"]
    assert "abc123" not in sealed["sealed"]
    assert sealing.unseal(KEY, sealed) == {"token": "abc123"}
    assert sealing.seal(KEY, "x") != sealing.seal(KEY, "x")  # a fresh nonce each time
    with pytest.raises(sealing.SealBroken) as wrong:
        sealing.unseal(b"o" * 32, sealed)
    assert str(wrong.value) == (
        "a sealed secret of this run does not open with this worker's PLAYBOOK_SECRET_KEY; "
        "the workers need the key the run was submitted with"
    )
    with pytest.raises(sealing.SealBroken) as none:
        sealing.unseal(None, sealed)
    assert str(none.value) == (
        "this run carries sealed secrets, but this worker has no PLAYBOOK_SECRET_KEY; "
        "give the workers the key the run was submitted with"
    )


def test_a_short_key_is_refused() -> None:
    with pytest.raises(UsageError) as short:
        sealing.key_from({"PLAYBOOK_SECRET_KEY": "short"})
    assert str(short.value) == "PLAYBOOK_SECRET_KEY is too short: give at least 16 characters"
    assert sealing.key_from({}) is None


def test_the_environment_variables_a_playbook_reads(tmp_path: Path) -> None:
    named = _playbook(
        tmp_path,
        "  - log: \"{{ env.HOME }} {{ env['USER'] }}\"\n  - log: x\n    when: env.SHELL != ''\n",
    )
    assert env_names(load(named)) == frozenset({"HOME", "USER", "SHELL"})
    whole = _playbook(tmp_path, '  - log: "{{ env | list }}"\n', "whole.yaml")
    assert env_names(load(whole)) is None
    assert env_names(load(_playbook(tmp_path, "  - log: plain\n", "plain.yaml"))) == frozenset()


def test_a_run_input_takes_what_it_needs_and_seals_the_secrets(tmp_path: Path) -> None:
    path = _playbook(
        tmp_path,
        '  - log: "{{ env.REGION }} {{ env.TEMPORAL_API_KEY }}"\n',
        head="inputs:\n  token: {type: string, secret: true}\n  who: {type: string}\n",
    )
    playbook = load(path)
    environ = {"REGION": "eu", "OTHER": "x", "TEMPORAL_API_KEY": "key-123456"}
    common: dict[str, Any] = {
        "run_id": "r1",
        "options": {"yes": True, "jobs": 3},
        "namespace": "default",
    }
    plain = run_input(
        playbook, {"who": "bob", "token": None}, environ, address="a:1", ui_url=None, **common
    )
    assert plain["env"] == {"REGION": "eu"}  # not OTHER, not the API key
    assert plain["secret_env"] is None and plain["secret_inputs"] is None
    assert plain["options"] == {"yes": True}
    with pytest.raises(UsageError):
        run_input(
            playbook, {"who": "bob", "token": "t0ken"}, environ, address="a", ui_url=None, **common
        )
    keyed = {**environ, "PLAYBOOK_SECRET_KEY": "the-key-0123456789"}
    data = run_input(
        playbook, {"who": "bob", "token": "t0ken"}, keyed, address="a", ui_url=None, **common
    )
    assert data["env"] == {} and data["inputs"] == {"who": "bob"}
    assert "t0ken" not in str(data) and "key-123456" not in str(data)
    assert "the-key-0123456789" not in str(data)
    inputs, env = opened(data, sealing.key_from(keyed))
    assert inputs == {"who": "bob", "token": "t0ken"}
    assert env == {"REGION": "eu", "TEMPORAL_API_KEY": "key-123456"}


def test_the_model_is_rebuilt_from_the_files_text(tmp_path: Path) -> None:
    (tmp_path / "child.yaml").write_text("version: 1\nname: child\nsteps:\n  - log: inner\n")
    path = _playbook(tmp_path, "  - log: outer\n  - include: {playbook: child.yaml}\n")
    loaded = load(path)
    tree = tree_of(loaded)
    assert tree["includes"]["child.yaml"]["text"].endswith("  - log: inner\n")
    (tmp_path / "child.yaml").unlink()  # nothing is read from disk again
    rebuilt = playbook_from_tree(tree)
    assert [s.kind for s in rebuilt.every_step()] == ["log", "include", "log"]
    assert rebuilt.steps[1].included is not None
    assert rebuilt.steps[1].included.name == "child"
    assert rebuilt.path == loaded.path and rebuilt.steps[0].line == 4


def test_a_result_survives_its_plain_form() -> None:
    result = RunResult(playbook="p", path="p.yaml", run_id="r", started_at="t", exit_code=1)
    result.masker = Masker(["hunter22"])
    result.records = [
        StepRecord(path="steps[0]", action="log", name="log", status="passed", result="hunter22"),
        StepRecord(path="steps[1]", action="assert", name="assert", logs=["a line"]),
    ]
    result.handlers.call("Order", "signal", "add")
    data = result_data(result, [1, 0], done=True)
    assert data["finished"] == [1, 0] and data["done"] is True
    back = result_from(data)
    assert back.records[0].result == "***"
    assert back.records[1].logs == ["a line"]
    assert back.exit_code == 1
    assert back.handlers.called == {"Order": {"signal": {"add"}, "query": set(), "update": set()}}


def test_a_stub_state_round_trips() -> None:
    state = StubState("w1", "r1", "Order", {"task_queue": "q"}, True, "r2")
    assert StubState.from_data(state.to_data()) == state
    assert (state.current_run_id, state.is_new, state.task_queue) == ("r2", True, "q")


def test_a_large_document_travels_packed() -> None:
    from playbook.durable.state import pack, unpack

    small = {"records": [{"path": "steps[0]"}]}
    assert pack(small) is small
    large = {"records": [{"path": f"steps[{i}]", "status": "passed"} for i in range(5_000)]}
    packed = pack(large)
    assert list(packed) == ["packed"]
    assert len(packed["packed"]) < 20_000  # (about 180 kB of JSON)
    assert unpack(packed) == large
    assert unpack(small) == small
