"""The ``run_playbook`` fixture: one playbook run from a user's test, in the session's
environment, returning its :class:`~playbook.records.RunResult`."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import pytest

from playbook.pytest_plugin.session import SESSION

if TYPE_CHECKING:
    from playbook.records import RunResult

FIXTURE_OPTIONS = (
    "address",
    "namespace",
    "api_key",
    "connection",
    "tags",
    "skip_tags",
    "yes",
    "fail_fast",
    "preflight",
    "cleanup",
    "verify",
)


class RunPlaybook(Protocol):
    """The ``run_playbook`` fixture's type, for annotations in users' tests."""

    def __call__(
        self, path: str | os.PathLike[str], inputs: Mapping[str, Any] | None = None, **options: Any
    ) -> RunResult: ...


@pytest.fixture
def run_playbook(request: pytest.FixtureRequest) -> RunPlaybook:
    """Run one playbook with the session's connection, dev server and workers; returns its
    :class:`~playbook.records.RunResult` (a failed playbook does not raise; an invalid one
    raises ``InvalidPlaybook``). A relative path is looked up next to the test file first,
    then in the current directory. Options: address, namespace, api_key, connection (a
    mapping of connection keys), tags, skip_tags, yes, fail_fast, and preflight, cleanup,
    verify (over the playbook's keys of those names)."""
    session = request.config.stash[SESSION]
    here = request.path.parent

    def run(
        path: str | os.PathLike[str], inputs: Mapping[str, Any] | None = None, **options: Any
    ) -> RunResult:
        from playbook.loader import load

        unknown = sorted(set(options) - set(FIXTURE_OPTIONS))
        if unknown:
            raise TypeError(
                f"run_playbook() got unknown option(s) {', '.join(unknown)}; "
                f"it takes: {', '.join(FIXTURE_OPTIONS)}"
            )
        target = Path(path)
        if not target.is_absolute() and (here / target).exists():
            target = here / target
        connection = dict(options.get("connection") or {})
        connection.update(
            {k: options[k] for k in ("address", "namespace", "api_key") if options.get(k)}
        )
        return session.run(
            load(target),
            inputs,
            connection=connection,
            tags=frozenset(options.get("tags") or ()),
            skip_tags=frozenset(options.get("skip_tags") or ()),
            yes=options.get("yes"),
            fail_fast=bool(options.get("fail_fast")),
            hygiene={k: options[k] for k in ("preflight", "cleanup", "verify") if k in options},
        )

    return run
