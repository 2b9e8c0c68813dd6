"""Where a run connects, resolved once per connection into a :class:`Connection`: core's
:class:`~playbook.core.ConnectSettings`, the connect timeout (parsed here and nowhere else)
and whether to verify the server before the first step.

Two ways to get one:

- :func:`resolve`: the run's options (the command line's, the pytest session's, a
  ``run_playbook`` call's) over the playbook's ``connection`` (rendered) over the Temporal
  environment configuration (``TEMPORAL_*`` variables, the TOML profile) and the defaults;
- :func:`embedded`: the address and namespace of a server this process started, and nothing
  else. No TLS, API key, profile or header of the environment, the TOML file or the
  playbook applies to it, so nothing here reads them.

Nothing here connects. temporalio is imported (through :mod:`playbook.core`) only when a
connection is resolved.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from playbook.errors import UsageError

if TYPE_CHECKING:
    from playbook.core import ConnectSettings
    from playbook.model import Playbook

DEFAULT_TIMEOUT = 5.0


def parse_timeout(value: object, where: str) -> float:
    """``connect_timeout`` in seconds; ``where`` names its source in the usage error."""
    from playbook.durations import parse_duration

    try:
        return parse_duration(value).total_seconds()
    except ValueError as e:
        raise UsageError(f"{where}: {e}") from None


@dataclass(frozen=True)
class Connection:
    """One connection, resolved: what core's ``create_client`` takes, and how long to wait."""

    settings: ConnectSettings
    timeout: float = DEFAULT_TIMEOUT
    lazy: bool = False

    @property
    def key(self) -> tuple[object, ...]:
        """Equal for connections that can share a client."""
        s = self.settings
        return (
            s.address,
            s.namespace,
            s.api_key,
            repr(s.tls),
            s.identity,
            tuple(sorted(s.headers.items())),
            id(s.data_converter),
            s.codec,
            self.lazy,
        )

    @property
    def address(self) -> str:
        return self.settings.address

    @property
    def namespace(self) -> str:
        return self.settings.namespace


@dataclass(frozen=True)
class Overrides:
    """Connection options given to a whole run or to one ``run_playbook`` call, with their
    ``connect_timeout`` parsed when they are given (so a bad one is a usage error before
    anything starts)."""

    options: Mapping[str, Any] = field(default_factory=dict)
    timeout: float | None = None

    @classmethod
    def parse(cls, options: Mapping[str, Any] | None, *, where: str) -> Overrides:
        rest = dict(options or {})
        value = rest.pop("connect_timeout", None)
        return cls(rest, None if value is None else parse_timeout(value, where))


def embedded(address: str, namespace: str, timeout: float | None = None) -> Connection:
    """The connection to a server this process runs: its address and namespace only."""
    from playbook.core import ConnectSettings

    return Connection(
        ConnectSettings(address=address, namespace=namespace),
        timeout=DEFAULT_TIMEOUT if timeout is None else timeout,
    )


def resolve(
    playbook: Playbook | None, rendered: Mapping[str, Any], *overrides: Overrides
) -> Connection:
    """The connection of one run: each of ``overrides`` over the last over ``rendered`` (the
    playbook's ``connection``, see :func:`render_connection`) over the environment
    configuration. ``playbook`` names the file in a problem with its ``connect_timeout``."""
    from playbook.core import resolve_settings

    options = dict(rendered)
    for layer in overrides:
        options.update(layer.options)
    written = options.pop("connect_timeout", None)
    lazy = bool(options.pop("lazy", False))
    timeout = next((o.timeout for o in reversed(overrides) if o.timeout is not None), None)
    if timeout is None:
        where = f"{playbook.path}: connection.connect_timeout" if playbook else "connect_timeout"
        timeout = DEFAULT_TIMEOUT if written is None else parse_timeout(written, where)
    return Connection(resolve_settings(options), timeout=timeout, lazy=lazy)


def render_connection(playbook: Playbook, inputs: Mapping[str, Any]) -> dict[str, Any]:
    """The playbook's ``connection`` with its templates rendered (inputs and env only: it is
    rendered before the first step)."""
    if not playbook.connection:
        return {}
    from playbook import templating
    from playbook.runner.env import template_context

    context = template_context(inputs, {}, dict(os.environ), {}, {"playbook": playbook.name})
    rendered = templating.render(
        dict(playbook.connection), context, where=f"{playbook.path}: connection"
    )
    return dict(rendered)


def default_ui(address: str) -> str | None:
    """The Web UI for a server address: the local dev server's, Temporal Cloud's, or none."""
    host, _, port = address.rpartition(":")
    if host in ("localhost", "127.0.0.1", "[::1]") and port == "7233":
        return "http://localhost:8233"
    if host.endswith(".tmprl.cloud"):
        return "https://cloud.temporal.io"
    return None
