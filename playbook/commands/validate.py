"""``playbook validate FILE...``: schema and semantic checks, offline.

Prints every problem of every file (``file:line:col: path: message`` and the line it is
on), ``ok: FILE`` for each valid file, then a summary. Exit code 0 when all files are
valid, 2 otherwise. Inputs are checked only when some are given; a required input may be
absent. Nothing here imports temporalio or opens a connection.

``--format json`` prints one JSON document instead: ``valid``, ``files`` (each with
``file`` and ``valid``) and ``problems`` (each with ``file``, ``line``, ``column``,
``path`` (null for the file as a whole) and ``message``; an input's problem has no
line and column, its path is ``inputs``); the exit code is the same. In GitHub Actions
each problem is also an ``::error`` annotation, on standard error.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from typing import Any

import click

from playbook.errors import InvalidInputs, InvalidPlaybook, Problem
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


def problem_dict(problem: Problem) -> dict[str, Any]:
    """A problem as ``--format json`` prints it."""
    return {
        "file": problem.file,
        "line": problem.line,
        "column": problem.column,
        "path": problem.path or None,
        "message": problem.message,
    }


def input_problem(file: str, message: str) -> dict[str, Any]:
    """A problem with the inputs given: it has no place in the file."""
    return {"file": file, "line": None, "column": None, "path": "inputs", "message": message}


def print_json(document: Mapping[str, Any]) -> None:
    click.echo(json.dumps(document, indent=2, ensure_ascii=False, default=str))


def annotate(problems: Sequence[Mapping[str, Any]]) -> None:
    """In GitHub Actions, every problem also as an ``::error`` annotation on its line (on
    standard error, so that ``--format json`` keeps standard output to itself)."""
    from playbook.report import github

    if not github.active():
        return
    workspace = os.environ.get("GITHUB_WORKSPACE")
    for p in problems:
        where = f"{p['path']}: " if p["path"] else ""
        line = github.annotation(
            "playbook validate",
            where + p["message"],
            p["file"],
            p["line"],
            workspace,
            p["column"],
        )
        click.echo(line, err=True)


def run(
    files: Sequence[str],
    *,
    inputs: Sequence[str] = (),
    inputs_file: str | None = None,
    include_root: str | None = None,
    format: str = "text",
) -> int:
    as_json = format == "json"
    given = gather_inputs(inputs, inputs_file)
    check_inputs = bool(inputs) or inputs_file is not None
    shown: set[tuple[str, int, int, str, str]] = set()
    problems: list[dict[str, Any]] = []
    verdicts: list[dict[str, Any]] = []
    for file in files:
        valid = False
        try:
            load(
                file,
                inputs=given if check_inputs else None,
                inputs_from_cli=True,
                allow_missing_inputs=True,
                include_root=include_root,
            )
        except InvalidPlaybook as error:
            for problem in error.problems:
                key = (problem.file, problem.line, problem.column, problem.path, problem.message)
                if key not in shown:  # a file included by several others is reported once
                    shown.add(key)
                    problems.append(problem_dict(problem))
                    if not as_json:
                        click.echo(str(problem))
        except InvalidInputs as error:
            for line in error.problems:
                problems.append(input_problem(file, line))
                if not as_json:
                    click.echo(f"{file}: inputs: {line}")
        else:
            valid = True
            if not as_json:
                click.echo(f"ok: {file}")
        verdicts.append({"file": file, "valid": valid})
    invalid = sum(1 for v in verdicts if not v["valid"])
    annotate(problems)
    if as_json:
        print_json({"valid": not invalid, "files": verdicts, "problems": problems})
    elif invalid:
        click.echo(
            f"{_plural(len(problems), 'problem')} in {invalid} of {_plural(len(files), 'file')}"
        )
    else:
        click.echo(f"{_plural(len(files), 'file')} valid")
    return 2 if invalid else 0
