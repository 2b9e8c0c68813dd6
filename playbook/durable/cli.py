"""The click commands of durable runs: ``worker``, ``status``, ``report``, ``approve``,
``deny``, ``cancel`` (``run --durable`` is an option of ``run``). Each takes the connection
options of ``run`` (the very option objects, so that they are spelt and documented once).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from playbook.commands.run import RunRequest
    from playbook.commands.signals import Signals

CONNECTION = frozenset(
    {
        "address",
        "namespace",
        "profile",
        "config_file",
        "api_key",
        "tls",
        "tls_server_name",
        "tls_ca_cert",
        "tls_cert",
        "tls_key",
        "connect_timeout",
        "codec_endpoint",
        "codec_auth",
    }
)


def _run(coroutine: Any) -> int:
    return int(asyncio.run(coroutine))


def register(group: click.Group) -> None:
    """Add the durable commands to ``group``, with ``run``'s connection options."""
    from playbook import cli as main

    shared = [p for p in main.run_command.params if p.name in CONNECTION]

    def connected(command: click.Command) -> click.Command:
        command.params.extend(shared)
        group.add_command(command)
        return command

    def connection(options: dict[str, Any]) -> dict[str, Any]:
        from playbook.commands.options import connection_options

        return connection_options(options)

    @click.command("worker")
    @click.option(
        "--task-queue", default="playbook", show_default=True, help="The interpreter's task queue."
    )
    @click.option(
        "--worker",
        "workers",
        multiple=True,
        metavar="MODULE[:ATTR]",
        help="Also host this module's workflows and activities (repeatable).",
    )
    def worker(task_queue: str, workers: tuple[str, ...], **options: Any) -> int:
        """Host the playbook interpreter for durable runs (run as many as you like)."""
        from playbook.durable.worker import serve

        return _run(serve(connection(options), task_queue, workers))

    @click.command("status")
    @click.argument("run")
    def status(run: str, **options: Any) -> int:
        """Show a durable run's records so far."""
        from playbook.durable import commands

        return _run(commands.status(connection(options), run))

    @click.command("report")
    @click.argument("run")
    @click.option("--json-report", type=click.Path(dir_okay=False), help="Write the JSON report.")
    @click.option(
        "--junit-xml", type=click.Path(dir_okay=False), help="Write the JUnit XML report."
    )
    @click.option("--html-report", type=click.Path(dir_okay=False), help="Write the HTML report.")
    def report(
        run: str,
        json_report: str | None,
        junit_xml: str | None,
        html_report: str | None,
        **options: Any,
    ) -> int:
        """Write the reports of a durable run (while it runs, or after)."""
        from playbook.durable import commands

        paths = {"json_report": json_report, "junit_xml": junit_xml, "html_report": html_report}
        return _run(commands.report(connection(options), run, paths))

    def answering(approve: bool) -> Callable[..., int]:
        def answer(run: str, step: str | None = None, **options: Any) -> int:
            from playbook.durable import commands

            return _run(commands.answer(connection(options), run, approve, step))

        return answer

    approve = click.command(
        "approve", help="Answer yes to the confirm step a durable run waits on."
    )(
        click.option(
            "--step", metavar="ID", help="The waiting step's id (refused if another waits)."
        )(click.argument("run")(answering(True)))
    )
    deny = click.command("deny", help="Answer no to the confirm step a durable run waits on.")(
        click.option(
            "--step", metavar="ID", help="The waiting step's id (refused if another waits)."
        )(click.argument("run")(answering(False)))
    )

    @click.command("cancel")
    @click.argument("run")
    def cancel(run: str, **options: Any) -> int:
        """Interrupt a durable run: steps in flight are cancelled, finally runs, exit 130."""
        from playbook.durable import commands

        return _run(commands.cancel(connection(options), run))

    for command in (worker, status, report, approve, deny, cancel):
        connected(command)


def run_durable(
    request: RunRequest, durable: bool, task_queue: str, detach: bool, signals: Signals
) -> int:
    """``run --durable``: submit, then follow until the run ends or a signal detaches."""
    from playbook.durable import commands
    from playbook.errors import UsageError

    if not durable:
        raise UsageError("--detach is an option of durable runs: give --durable too")

    async def submitted() -> int:
        task = asyncio.ensure_future(commands.submit(request, task_queue, detach))

        def detach_now() -> None:
            task.cancel()  # (follow says how to follow on; before the start, nothing started)

        with (
            signals.in_loop(asyncio.get_running_loop()),
            signals.reacting(detach_now),
        ):
            try:
                return await task
            except asyncio.CancelledError:  # before the run was started: nothing was
                click.echo("error: interrupted before the durable run was started", err=True)
                return 130

    return _run(submitted())
