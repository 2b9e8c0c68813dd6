"""The run environment shared by ``playbook run`` and the pytest plugin: the servers this
process starts (the dev server, the time-skipping test server), the workers it hosts
(``--worker``), the connections (resolved once each, see :mod:`.settings`), one client per
distinct connection, and the runner factory.

With an embedded server the connection is replaced wholesale: every run talks to that
server's address and namespace, and no TLS, API key, profile or header from the
environment, the TOML configuration, the command line or the playbook applies to it.

Lifecycle: :meth:`RunEnvironment.start` (worker modules are imported first, so a bad
``--worker`` fails before a server starts), :meth:`~RunEnvironment.host_workers`, any
number of :meth:`~RunEnvironment.runner` runs, :meth:`~RunEnvironment.aclose` (workers,
then servers). It is also an async context manager that starts and closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

from playbook.environment.settings import (
    Connection,
    Overrides,
    default_ui,
    embedded,
    render_connection,
    resolve,
)
from playbook.errors import PlaybookError, UsageError
from playbook.secrets import Masker, environment_secrets

if TYPE_CHECKING:
    from temporalio.client import Client

    from playbook.devserver import DevServer
    from playbook.environment.worker_log import WorkerLog
    from playbook.model import Playbook
    from playbook.report import Reporter
    from playbook.runner import Runner, RunOptions

Server = Literal["dev", "time-skipping"]


class RunEnvironment:
    """Servers, workers, connections and clients for one ``playbook run`` or pytest session.

    ``connection`` holds the run's connection options (``address``, ``api_key``,
    ``connect_timeout``...); ``flag_prefix`` is how the caller's options are spelt in
    messages (``--`` for ``--worker``, ``--playbook-`` for ``--playbook-worker``).
    """

    def __init__(
        self,
        connection: Mapping[str, Any] | None = None,
        *,
        server: Server | None = None,
        workers: Sequence[str] = (),
        ui_url: str | None = None,
        flag_prefix: str = "--",
        search_attributes: Sequence[str] = (),
        data_converter: str | None = None,
        worker_log: WorkerLog | None = None,
    ) -> None:
        from playbook.environment import attributes

        self.overrides = Overrides.parse(connection, where=f"{flag_prefix}connect-timeout")
        self.search_attributes = attributes.parse(
            search_attributes, f"{flag_prefix}search-attribute"
        )
        """Search attributes to register on the embedded dev server, by name (their types)."""
        if self.search_attributes and server != "dev":
            raise UsageError(
                f"{flag_prefix}search-attribute registers attributes on the embedded dev "
                f"server: give {flag_prefix}dev-server too (on another server, register them "
                "with: temporal operator search-attribute create --name NAME --type TYPE)"
            )
        self.server = server
        self.workers = list(workers)
        self.ui_url = ui_url
        self.flag_prefix = flag_prefix
        self.sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep
        self.embedded: Connection | None = None
        self._dev_server: DevServer | None = None
        self._specs: list[Any] = []
        self._playbooks: list[Playbook] = []
        self.worker_log = worker_log
        """Where the hosted workers' own output goes (None: where it would go anyway)."""
        self._converter_ref = data_converter
        self.data_converter: Any = None
        """The DataConverter of every client and hosted worker: ``--data-converter``'s, or
        the one a ``--worker`` module exports; None for temporalio's default."""
        self._clients: dict[tuple[object, ...], asyncio.Future[Client]] = {}
        self._stack = contextlib.AsyncExitStack()

    async def __aenter__(self) -> RunEnvironment:
        await self.start()
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    # -- servers and workers ---------------------------------------------------------------

    async def start(self) -> None:
        """Import the worker modules, then start the embedded server, if any."""
        from playbook import devserver

        flag = f"{self.flag_prefix}worker"
        from playbook.environment.workers import place

        specs = [s for ref in self.workers for s in devserver.load_worker_specs(ref, flag)]
        self._specs = place(specs, self._playbooks, flag)
        self.data_converter = self._converter()
        if self.server == "dev":
            from playbook.environment.attributes import command_line

            namespace = str(self.overrides.options.get("namespace") or "default")
            server = await devserver.start_dev_server(
                ui=True, namespace=namespace, search_attributes=command_line(self.search_attributes)
            )
            self._dev_server = server
            self._stack.callback(self.stop_servers)
            self.embedded = embedded(server.address, server.namespace, self.overrides.timeout)
            self.ui_url = self.ui_url or server.ui_url
        elif self.server == "time-skipping":
            testing: Any = await _started(devserver.start_time_skipping())
            self._stack.push_async_callback(testing.shutdown)
            client = testing.client
            self.embedded = embedded(
                client.service_client.config.target_host, client.namespace, self.overrides.timeout
            )
            ready: asyncio.Future[Client] = asyncio.get_running_loop().create_future()
            ready.set_result(client)  # its client skips time while a result is awaited
            self._clients[self.embedded.key] = ready
            self.sleep = testing.sleep

    def register_search_attributes(self, playbooks: Sequence[Playbook]) -> None:
        """On the embedded dev server, also register the search attributes that the
        playbooks' ``create`` steps name literally (before :meth:`start`). The workers of
        a module that exports no task queue serve the queues these playbooks give its
        workflow types."""
        self._playbooks = list(playbooks)
        if self.server == "dev":
            from playbook.environment.attributes import named_by

            self.search_attributes = {**named_by(playbooks), **self.search_attributes}

    def _converter(self) -> Any:
        from playbook.environment.workers import load_data_converter

        flag = f"{self.flag_prefix}data-converter"
        given = load_data_converter(self._converter_ref, flag) if self._converter_ref else None
        exported = {id(s.data_converter): s for s in self._specs if s.data_converter is not None}
        if len(exported) > 1 or (given is not None and exported):
            sources = [f"{self.flag_prefix}worker {s.source}" for s in exported.values()]
            raise UsageError(
                "one data converter serves the whole run, but "
                + " and ".join([*([flag] if given is not None else []), *sources])
                + " each give one; keep one"
            )
        return (
            given
            if given is not None
            else next((s.data_converter for s in exported.values()), None)
        )

    async def host_workers(
        self, playbook: Playbook | None = None, inputs: Mapping[str, Any] | None = None
    ) -> None:
        """Host the worker modules until :meth:`aclose`, connected where ``playbook`` connects
        (without one: where the run's options and the environment configuration say)."""
        if not self._specs:
            return
        from playbook import devserver

        connection = self.connection(playbook, inputs or {})
        client = await self.client(replace(connection, lazy=False))
        if self.worker_log is not None:  # (closed after the workers have stopped)
            self._stack.enter_context(self.worker_log.capture())
        try:
            await self._stack.enter_async_context(devserver.hosted_workers(client, self._specs))
        except PlaybookError:
            raise
        except Exception as e:  # temporalio rejects a bad workflow class with plain errors
            raise UsageError(
                f"{self.flag_prefix}worker {', '.join(self.workers)}: cannot host "
                f"the workers: {type(e).__name__}: {e}"
            ) from e

    async def aclose(self) -> None:
        """Stop the workers, then the servers."""
        try:
            await self._stack.aclose()
        finally:
            self.stop_servers()

    def stop_servers(self) -> None:
        """Stop the dev server now (idempotent; for a caller whose event loop is gone)."""
        if self._dev_server is not None:
            self._dev_server.stop()
            self._dev_server = None

    # -- connections and clients -----------------------------------------------------------

    def connection(
        self,
        playbook: Playbook | None = None,
        inputs: Mapping[str, Any] | None = None,
        overrides: Mapping[str, Any] | None = None,
    ) -> Connection:
        """Where a run of ``playbook`` connects; ``overrides`` (one ``run_playbook`` call's
        options) win over the run's. With an embedded server: that server, in the namespace
        an override names."""
        extra = Overrides.parse(overrides, where="connect_timeout")
        if self.embedded is not None:
            moved: dict[str, Any] = {
                k: extra.options[k] for k in ("address", "namespace") if k in extra.options
            }
            # a codec server given to the run (not one of the environment's) serves here too
            given = {**self.overrides.options, **extra.options}
            if given.get("codec_endpoint"):
                from playbook.core.codec import resolve_codec

                moved["codec"] = resolve_codec(
                    {k: given.get(k) for k in ("codec_endpoint", "codec_auth")}, environ={}
                )
            found = replace(self.embedded, settings=replace(self.embedded.settings, **moved))
        else:
            rendered = render_connection(playbook, inputs or {}) if playbook is not None else {}
            found = resolve(playbook, rendered, self.overrides, extra)
        if self.data_converter is None:
            return found
        return replace(found, settings=replace(found.settings, data_converter=self.data_converter))

    async def client(self, connection: Connection) -> Client:
        """One client per distinct connection, made (and verified, unless lazy) on first use;
        a failed attempt is not kept, so a later run tries again."""
        key = connection.key
        made = self._clients.get(key)
        if made is None:
            made = asyncio.ensure_future(_connect(connection))
            self._clients[key] = made
        try:
            return await asyncio.shield(made)  # one run's interrupt does not cancel another's
        finally:
            if made.done() and (made.cancelled() or made.exception() is not None):
                if self._clients.get(key) is made:
                    del self._clients[key]

    # -- runners ---------------------------------------------------------------------------

    def masker(
        self,
        playbook: Playbook,
        inputs: Mapping[str, Any],
        overrides: Mapping[str, Any] | None = None,
    ) -> Masker:
        """The secrets of a run of ``playbook``: its secret inputs, the API keys and codec
        credentials given and the environment's own (``TEMPORAL_API_KEY``...)."""
        from playbook.inputs import secret_names

        return Masker(
            [
                *(inputs.get(n) for n in secret_names(playbook.inputs)),
                *(self.overrides.options.get(k) for k in ("api_key", "codec_auth")),
                *((overrides or {}).get(k) for k in ("api_key", "codec_auth")),
                *environment_secrets(os.environ),
            ]
        )

    def runner(
        self,
        playbook: Playbook,
        inputs: Mapping[str, Any],
        *,
        options: RunOptions,
        reporter: Reporter,
        overrides: Mapping[str, Any] | None = None,
    ) -> Runner:
        """A runner for one playbook in this environment: its connection, the secrets to
        mask, the UI links, the sleep (time-skipping's, with that server)."""
        from playbook.runner import Runner, Shared, new_result, uses_temporal

        values = dict(inputs)
        masker = self.masker(playbook, values, overrides)
        connection: Connection | None = None
        address = namespace = None
        if uses_temporal(playbook):  # a playbook of log/set/assert steps never connects
            connection = self.connection(playbook, values, overrides)
            masker.add(connection.settings.api_key)
            if connection.settings.codec is not None:
                masker.add(connection.settings.codec.auth)
            address, namespace = connection.address, connection.namespace
            options.ui_url = self.ui_url or default_ui(address)
            options.namespace = namespace

        async def client_factory() -> Client:
            return await self.client(connection or self.connection(playbook, values, overrides))

        from playbook.runner.hygiene import CoreChecks

        options.worker_queues = frozenset(s.task_queue for s in self._specs)  # (preflight)
        shared = Shared(
            result=new_result(playbook, address=address, namespace=namespace),
            options=options,
            reporter=reporter,
            masker=masker,
            client_factory=client_factory,
            sleep=self.sleep,
            checks=CoreChecks(client_factory),
        )
        if self.worker_log is not None and self._specs:
            shared.worker_quote = self.worker_log.quote
        return Runner(playbook, values, shared)


async def _started(starting: Awaitable[Any], wait: float = 30.0) -> Any:
    """The time-skipping server once it has started. Cancelled meanwhile (a signal), its
    start is seen through (briefly) and the server shut down: the SDK's start cannot be
    stopped half-way, and a server it started is a process of ours."""
    task = asyncio.ensure_future(starting)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        with contextlib.suppress(BaseException):
            server = await asyncio.wait_for(task, wait)
            await asyncio.wait_for(server.shutdown(), wait)
        raise


async def _connect(connection: Connection) -> Client:
    from playbook.core import create_client, create_client_async

    if connection.lazy:
        return await create_client_async(connection.settings)
    return await create_client(connection.settings, timeout=connection.timeout)


__all__ = ["Connection", "RunEnvironment", "Server", "default_ui"]
