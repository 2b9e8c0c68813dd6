"""The ``playbook`` command: parse, call, print. No logic lives here.

Errors reach the user in one place, :func:`main`: a :class:`PlaybookError` prints its
message and exits with its code, Ctrl-C exits 130, anything else is a bug and exits 3
with a short report. The process ends with ``os._exit`` so that temporalio's native
threads cannot turn a clean exit into a crash at interpreter shutdown (sdk-python#300).
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import click

from playbook import __version__
from playbook.errors import PlaybookError


def _echo_error(message: str) -> None:
    click.echo(f"error: {message}", err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="playbook")
def cli() -> None:
    """Run declarative YAML playbooks against Temporal."""


@cli.command()
def schema() -> None:
    """Print the playbook JSON Schema."""
    from playbook.schema import schema_text

    click.echo(schema_text(), nl=False)


@cli.command("dev-server")
@click.option("--port", type=int, default=7233, show_default=True, help="gRPC port of the frontend.")
@click.option("--ui/--no-ui", default=True, show_default=True, help="Serve the Web UI.")
@click.option("--ui-port", type=int, default=None, help="Web UI port (default: port + 1000).")
@click.option("--db-filename", type=click.Path(dir_okay=False), default=None,
              help="Keep state in this SQLite file (default: in memory).")
@click.option("--namespace", default="default", show_default=True)
@click.option("--search-attribute", "search_attributes", multiple=True, metavar="NAME=TYPE",
              help="Register a custom search attribute (repeatable).")
def dev_server(port: int, ui: bool, ui_port: int | None, db_filename: str | None,
               namespace: str, search_attributes: tuple[str, ...]) -> None:
    """Run the bundled Temporal dev server in the foreground (Ctrl-C stops it)."""
    from playbook import devserver

    command = devserver.dev_server_command(
        port=port, http_port=devserver.free_port(), metrics_port=devserver.free_port(),
        ui_port=(ui_port or port + 1000) if ui else None, namespace=namespace,
        db_filename=db_filename, search_attributes=search_attributes)
    click.echo(f"Temporal dev server: address {devserver.HOST}:{port}, namespace '{namespace}'")
    if ui:
        click.echo(f"Web UI: http://{devserver.HOST}:{ui_port or port + 1000}")
    click.echo("Press Ctrl-C to stop.")
    sys.stdout.flush()
    raise SystemExit(devserver.run_foreground(command))


def _run_cli(args: list[str] | None) -> int:
    try:
        rv = cli.main(args=args, prog_name="playbook", standalone_mode=False)
        return int(rv) if isinstance(rv, int) else 0
    except PlaybookError as e:
        _echo_error(str(e))
        return e.exit_code
    except click.exceptions.Abort:
        _echo_error("interrupted")
        return 130
    except click.ClickException as e:
        e.show()
        return 2
    except KeyboardInterrupt:
        _echo_error("interrupted")
        return 130
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except BrokenPipeError:
        return 0
    except Exception as e:  # a bug: say so briefly, without a traceback unless asked
        if os.environ.get("PLAYBOOK_DEBUG"):
            raise
        _echo_error(f"internal error: {type(e).__name__}: {e} (set PLAYBOOK_DEBUG=1 for a traceback "
                    "and please report it)")
        return 3


def main(args: list[str] | None = None) -> None:
    """Entry point of the ``playbook`` console script."""
    code = _run_cli(args)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
    os._exit(code)


def dump_json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)
