"""What a durable run carries to its workers: the playbook's files as text (with their
includes), the inputs (secret ones sealed), the environment captured at submission (its
secret variables sealed or left out), the run options; and the way back to a
:class:`~playbook.model.Playbook` from that text, with no file read on the worker.

Validation happened on the submitting machine; :func:`playbook_from_tree` only builds the
model (the text is the very text the submitter validated).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from playbook import model
from playbook.durable import sealing
from playbook.durable.environ import env_names
from playbook.errors import UsageError
from playbook.inputs import secret_names
from playbook.model import Playbook
from playbook.secrets import ENVIRONMENT_SECRETS
from playbook.yamlsource import load_text

FORMAT = 1
"""The version of the run input's shape."""

OPTION_NAMES = ("tags", "skip_tags", "fail_fast", "yes", "preflight", "cleanup", "verify")
"""The :class:`~playbook.runner.RunOptions` fields a durable run takes from ``run``."""


def tree_of(playbook: Playbook) -> dict[str, Any]:
    """``{path, text, includes: {relative: tree}}``: the files as the submitter read them."""
    return {
        "path": playbook.path,
        "text": playbook.source.text,
        "includes": {relative: tree_of(child) for relative, child in playbook.includes.items()},
    }


def playbook_from_tree(tree: Mapping[str, Any]) -> Playbook:
    """The model of a tree of files given as text (includes first)."""
    includes = {relative: playbook_from_tree(child) for relative, child in tree["includes"].items()}
    return model.build(tree["path"], load_text(tree["text"], tree["path"]), includes)


def run_input(
    playbook: Playbook,
    inputs: Mapping[str, Any],
    environ: Mapping[str, str],
    *,
    run_id: str,
    options: Mapping[str, Any],
    namespace: str,
    address: str,
    ui_url: str | None,
) -> dict[str, Any]:
    """The workflow input of a durable run. The environment variables its templates read
    are taken along (:mod:`.environ`). With the submitter's key, secret inputs and those
    variables travel sealed; without one, a secret input given a value is a usage error
    and the environment's known secrets (``TEMPORAL_API_KEY``...) stay behind."""
    key = sealing.key_from(environ)
    secret = {n: v for n, v in inputs.items() if n in secret_names(playbook.inputs)}
    given = [n for n, v in secret.items() if v is not None]
    if given and key is None:
        raise UsageError(
            f"the secret input{'s' if len(given) > 1 else ''} {', '.join(sorted(given))} of a "
            f"durable run must travel sealed: set {sealing.KEY_VARIABLE} (the same key on "
            "this machine and on the workers)"
        )
    names = env_names(playbook)
    taken = {
        n: v
        for n, v in environ.items()
        if (names is None or n in names) and n != sealing.KEY_VARIABLE  # (never the key)
    }
    if key is not None:  # what the templates read may be secret too: all of it sealed
        plain, sealed = {}, taken
    else:  # the known secrets stay behind
        plain = {n: v for n, v in taken.items() if n not in ENVIRONMENT_SECRETS}
        sealed = {}
    return {
        "format": FORMAT,
        "run_id": run_id,
        "tree": tree_of(playbook),
        "inputs": {n: v for n, v in inputs.items() if n not in secret},
        "secret_inputs": sealing.seal(key, secret) if key is not None and secret else None,
        "env": plain,
        "secret_env": sealing.seal(key, sealed) if key is not None and sealed else None,
        "options": {
            k: sorted(v) if isinstance(v, frozenset) else v
            for k, v in options.items()
            if k in OPTION_NAMES
        },
        "namespace": namespace,
        "address": address,
        "ui_url": ui_url,
    }


def opened(data: Mapping[str, Any], key: bytes | None) -> tuple[dict[str, Any], dict[str, str]]:
    """The run's inputs and environment, the sealed parts opened with ``key``."""
    inputs = dict(data["inputs"])
    environ = dict(data["env"])
    if data.get("secret_inputs") is not None:
        inputs.update(sealing.unseal(key, data["secret_inputs"]))
    if data.get("secret_env") is not None:
        environ.update(sealing.unseal(key, data["secret_env"]))
    return inputs, environ
