"""``playbook validate FILE...``: schema and semantic checks, offline.

Prints every problem of every file (``file:line:col: path: message`` and the line it is
on), ``ok: FILE`` for each valid file, then a summary. Exit code 0 when all files are
valid, 2 otherwise. Inputs are checked only when some are given; a required input may be
absent. Nothing here imports temporalio or opens a connection.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import click

from playbook.errors import InvalidInputs, InvalidPlaybook
from playbook.inputs import load_inputs_file, parse_cli_inputs
from playbook.loader import load


def gather_inputs(pairs: Sequence[str], inputs_file: str | None) -> dict[str, Any]:
    """Values from ``--inputs-file``, then ``-i`` pairs over them."""
    given: dict[str, Any] = {}
    if inputs_file:
        given.update(load_inputs_file(inputs_file))
    given.update(parse_cli_inputs(pairs))
    return given


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def run(
    files: Sequence[str],
    *,
    inputs: Sequence[str] = (),
    inputs_file: str | None = None,
    include_root: str | None = None,
) -> int:
    given = gather_inputs(inputs, inputs_file)
    check_inputs = bool(inputs) or inputs_file is not None
    shown: set[tuple[str, int, int, str, str]] = set()
    problems = invalid = 0
    for file in files:
        try:
            load(
                file,
                inputs=given if check_inputs else None,
                inputs_from_cli=True,
                allow_missing_inputs=True,
                include_root=include_root,
            )
        except InvalidPlaybook as error:
            invalid += 1
            for problem in error.problems:
                key = (problem.file, problem.line, problem.column, problem.path, problem.message)
                if key not in shown:  # a file included by several others is reported once
                    shown.add(key)
                    problems += 1
                    click.echo(str(problem))
        except InvalidInputs as error:
            invalid += 1
            problems += len(error.problems)
            for line in error.problems:
                click.echo(f"{file}: inputs: {line}")
        else:
            click.echo(f"ok: {file}")
    if invalid:
        click.echo(f"{_plural(problems, 'problem')} in {invalid} of {_plural(len(files), 'file')}")
        return 2
    click.echo(f"{_plural(len(files), 'file')} valid")
    return 0
