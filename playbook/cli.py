"""The ``playbook`` command: parse, call, print. No logic lives here.

Errors reach the user in one place, :func:`main`: a :class:`PlaybookError` prints its
message and exits with its code, Ctrl-C or SIGTERM exits 130, anything else is a bug and exits 3
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
from playbook.errors import InvalidPlaybook, PlaybookError


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


@cli.command()
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def completion(shell: str) -> None:
    """Print the shell completion script for SHELL (docs/cli.md: where to put it)."""
    from click.shell_completion import get_completion_class

    complete = get_completion_class(shell)
    assert complete is not None  # (every choice has a class in click)
    click.echo(complete(cli, {}, "playbook", "_PLAYBOOK_COMPLETE").source())


_include_root = click.option(
    "--include-root",
    type=click.Path(file_okay=False),
    metavar="DIR",
    help="Let include steps reach files anywhere under DIR (default: the playbook's folder).",
)
_INPUT_HELP = "Set an input (repeatable); the value is parsed by the input's type."
_format = click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json: one JSON document on standard output, for tools (same exit codes).",
)


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("-i", "--input", "inputs", multiple=True, metavar="NAME=VALUE", help=_INPUT_HELP)
@click.option(
    "--inputs-file", type=click.Path(dir_okay=False), help="Inputs from a YAML or JSON file."
)
@_include_root
@_format
def validate(
    files: tuple[str, ...],
    inputs: tuple[str, ...],
    inputs_file: str | None,
    include_root: str | None,
    output_format: str,
) -> int:
    """Check playbooks offline: schema, semantics and, when given, inputs."""
    from playbook.commands import validate as command

    return command.run(
        files,
        inputs=inputs,
        inputs_file=inputs_file,
        include_root=include_root,
        format=output_format,
    )


@cli.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("-i", "--input", "inputs", multiple=True, metavar="NAME=VALUE", help=_INPUT_HELP)
@click.option(
    "--inputs-file", type=click.Path(dir_okay=False), help="Inputs from a YAML or JSON file."
)
@_include_root
@_format
def plan(
    file: str,
    inputs: tuple[str, ...],
    inputs_file: str | None,
    include_root: str | None,
    output_format: str,
) -> int:
    """Show what a run would do, with inputs and vars rendered; offline."""
    from playbook.commands import plan as command

    return command.run(
        file,
        inputs=inputs,
        inputs_file=inputs_file,
        include_root=include_root,
        format=output_format,
    )


@cli.command("dev-server")
@click.option(
    "--port", type=int, default=7233, show_default=True, help="gRPC port of the frontend."
)
@click.option("--ui/--no-ui", default=True, show_default=True, help="Serve the Web UI.")
@click.option("--ui-port", type=int, default=None, help="Web UI port (default: port + 1000).")
@click.option(
    "--db-filename",
    type=click.Path(dir_okay=False),
    default=None,
    help="Keep state in this SQLite file (default: in memory).",
)
@click.option("--namespace", default="default", show_default=True)
@click.option(
    "--search-attribute",
    "search_attributes",
    multiple=True,
    metavar="NAME=TYPE",
    help="Register a custom search attribute (repeatable).",
)
def dev_server(
    port: int,
    ui: bool,
    ui_port: int | None,
    db_filename: str | None,
    namespace: str,
    search_attributes: tuple[str, ...],
) -> None:
    """Run the bundled Temporal dev server in the foreground (Ctrl-C stops it)."""
    from playbook import devserver

    command = devserver.dev_server_command(
        port=port,
        http_port=devserver.free_port(),
        metrics_port=devserver.free_port(),
        ui_port=(ui_port or port + 1000) if ui else None,
        namespace=namespace,
        db_filename=db_filename,
        search_attributes=search_attributes,
    )
    click.echo(f"Temporal dev server: address {devserver.HOST}:{port}, namespace '{namespace}'")
    if ui:
        click.echo(f"Web UI: http://{devserver.HOST}:{ui_port or port + 1000}")
    click.echo("Press Ctrl-C to stop.")
    sys.stdout.flush()
    raise SystemExit(devserver.run_foreground(command))


@cli.command("run")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option(
    "-i",
    "--input",
    "inputs",
    multiple=True,
    metavar="NAME=VALUE",
    help="Set an input (repeatable); the value is parsed by the input's type.",
)
@click.option(
    "--inputs-file", type=click.Path(dir_okay=False), help="Inputs from a YAML or JSON file."
)
@click.option("--address", help="host:port of the Temporal frontend.")
@click.option("--namespace", help="Temporal namespace.")
@click.option("--profile", help="Profile of the Temporal environment configuration (TOML).")
@click.option("--config-file", type=click.Path(dir_okay=False), help="The TOML configuration file.")
@click.option("--api-key", help="API key (sent over TLS; never printed).")
@click.option("--tls/--no-tls", "tls", default=None, help="Use TLS.")
@click.option("--tls-server-name", help="Server name to verify.")
@click.option("--tls-ca-cert", type=click.Path(dir_okay=False), help="CA certificate (PEM file).")
@click.option("--tls-cert", type=click.Path(dir_okay=False), help="Client certificate (PEM file).")
@click.option("--tls-key", type=click.Path(dir_okay=False), help="Client private key (PEM file).")
@click.option("--connect-timeout", help="How long to wait for the server (default 5s).")
@click.option("--dev-server", is_flag=True, help="Start the bundled dev server for this run.")
@click.option(
    "--search-attribute",
    "search_attributes",
    multiple=True,
    metavar="NAME=TYPE",
    help="With --dev-server: register a custom search attribute (repeatable).",
)
@click.option(
    "--data-converter",
    metavar="MODULE:ATTR",
    help="The temporalio DataConverter for the run's clients and workers.",
)
@click.option(
    "--codec-endpoint",
    metavar="URL",
    help="A codec server that payloads are encoded and decoded through.",
)
@click.option(
    "--codec-auth",
    metavar="VALUE",
    help="Authorization header for the codec server (sent verbatim; never printed).",
)
@click.option(
    "--time-skipping",
    is_flag=True,
    help="Use the bundled time-skipping test server (timers take no wall time).",
)
@click.option(
    "--worker",
    "workers",
    multiple=True,
    metavar="MODULE[:ATTR]",
    help="Host the workflows and activities that MODULE exports, in-process.",
)
@click.option(
    "--worker-log",
    type=click.Path(dir_okay=False),
    help="Where the in-process workers' output goes (default: beside the reports, or a "
    "temporary folder that the summary names).",
)
@click.option("--junit-xml", type=click.Path(dir_okay=False), help="Write a JUnit XML report.")
@click.option("--json-report", type=click.Path(dir_okay=False), help="Write a JSON report.")
@click.option(
    "--html-report",
    type=click.Path(dir_okay=False),
    help="Write a self-contained HTML report (summary, timeline, every step).",
)
@click.option(
    "--history-dir",
    type=click.Path(file_okay=False),
    metavar="DIR",
    help="Write the history of every workflow a failed step targeted to DIR (JSON).",
)
@click.option(
    "--tags",
    help="Run only steps with one of these tags (comma-separated); untagged steps always run.",
)
@click.option("--skip-tags", help="Skip steps with any of these tags (comma-separated).")
@click.option(
    "--fail-fast",
    is_flag=True,
    help="Stop at the first failure, even of continue_on_error steps or other files.",
)
@click.option("--yes", is_flag=True, help="Answer yes to every confirm step.")
@click.option(
    "--dry-run",
    is_flag=True,
    help="Run only read-only actions and control steps; report the others as would_run.",
)
@click.option(
    "--preflight/--no-preflight",
    default=None,
    help="Before the first step, check the namespace, that a worker polls each literal task "
    "queue and that each literal search attribute is registered (default: the playbook's "
    "preflight key, on).",
)
@click.option(
    "--cleanup",
    type=click.Choice(["none", "cancel", "terminate"]),
    help="After finally, cancel or terminate every workflow the run started that still runs "
    "(default: the playbook's cleanup key, none).",
)
@click.option(
    "--verify/--no-verify",
    default=None,
    help="After the run, fail it if a workflow it started failed, timed out or was terminated "
    "unexpectedly (default: the playbook's verify key).",
)
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Run this many playbooks at once.",
)
@click.option("--ui-url", help="Base URL of the Temporal Web UI, for links.")
@click.option("-v", "--verbose", count=True, help="Show every step, also inside loops.")
@click.option("-q", "--quiet", is_flag=True, help="Show failures and the summary only.")
@click.option(
    "--color",
    type=click.Choice(["auto", "always", "never"]),
    default="auto",
    show_default=True,
    help="Colours on the console (auto: on a terminal, unless NO_COLOR; FORCE_COLOR forces).",
)
@_include_root
@click.option("--durable", is_flag=True, help="Run as a Temporal workflow on playbook workers.")
@click.option(
    "--task-queue",
    default="playbook",
    show_default=True,
    help="With --durable: the task queue the playbook workers poll.",
)
@click.option("--detach", is_flag=True, help="With --durable: start the run and return at once.")
def run_command(**options: Any) -> int:
    """Run playbooks against Temporal."""
    from playbook.commands.signals import Signals

    durable = options.pop("durable"), options.pop("task_queue"), options.pop("detach")
    with Signals().installed() as signals:  # from here on, a signal is recorded: the run reacts
        import asyncio

        from playbook.commands.options import connection_options, tag_set
        from playbook.commands.run import RunRequest, run_async
        from playbook.inputs import parse_cli_inputs

        quiet, verbose = options.pop("quiet"), options.pop("verbose")
        request = RunRequest(
            inputs=parse_cli_inputs(options.pop("inputs")),
            connection=connection_options(options),
            tags=tag_set(options.pop("tags")),
            skip_tags=tag_set(options.pop("skip_tags")),
            verbosity=-1 if quiet else verbose,
            **options,  # the rest are RunRequest's fields by name
        )
        if durable[0] or durable[2]:  # docs/durable.md (its Ctrl-C detaches: see there)
            from playbook.durable.cli import run_durable

            return run_durable(request, *durable, signals)
        return asyncio.run(run_async(request, signals))


def _run_cli(args: list[str] | None) -> int:
    try:
        rv = cli.main(args=args, prog_name="playbook", standalone_mode=False)
        return int(rv) if isinstance(rv, int) else 0
    except PlaybookError as e:
        _echo_error(str(e))
        if isinstance(e, InvalidPlaybook):  # (in GitHub Actions: an annotation each)
            from playbook.commands.validate import annotate, problem_dict

            annotate([problem_dict(p) for p in e.problems])
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
    except Exception as e:  # a bug: one line that names the log with the traceback
        if os.environ.get("PLAYBOOK_DEBUG"):
            raise
        from playbook import bugs

        click.echo(f"error: {bugs.describe(e)}", err=True)
        return 3


def main(args: list[str] | None = None) -> None:
    """Entry point of the ``playbook`` console script."""
    import signal

    # SIGTERM as Ctrl-C (exit 130, not a silent 143), until a command handles both itself
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    from playbook.commands.collector import tune_this_process

    tune_this_process()  # (this process ends with the command: docs/performance.md)
    code = _run_cli(args)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
    os._exit(code)


def _durable_commands() -> None:
    from playbook.durable.cli import register

    register(cli)


_durable_commands()  # worker, status, report, approve, deny, cancel (docs/durable.md)


def dump_json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)
