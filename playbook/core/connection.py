"""Clients: ``create_client`` (connect and verify) and ``create_client_async`` (no check).

Precedence of settings, as the ``temporal`` CLI has it: explicit options > ``TEMPORAL_*``
environment variables > the TOML profile file > defaults (``localhost:7233``, ``default``).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import temporalio.api.workflowservice.v1 as wsv1
import temporalio.service
from temporalio.client import Client
from temporalio.envconfig import ClientConfigProfile

from playbook.core.codec import CodecSettings, resolve_codec, with_codec
from playbook.core.errors import connection_failed
from playbook.durations import parse_duration
from playbook.errors import InvalidOptions
from playbook.options import did_you_mean

DEFAULT_ADDRESS = "localhost:7233"
DEFAULT_NAMESPACE = "default"
CONNECTION_KEYS = (
    "address",
    "namespace",
    "profile",
    "config_file",
    "api_key",
    "tls",
    "identity",
    "headers",
    "connect_timeout",
    "lazy",
    "codec_endpoint",
    "codec_auth",
)
TLS_KEYS = ("server_name", "server_ca_cert", "client_cert", "client_key")


@dataclass(frozen=True)
class ConnectSettings:
    """Where and how to connect, once every source has been merged."""

    address: str
    namespace: str
    api_key: str | None = field(default=None, repr=False)
    tls: bool | temporalio.service.TLSConfig | None = field(default=None, repr=False)
    identity: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    data_converter: Any = field(default=None, repr=False)
    """A ``temporalio.converter.DataConverter`` for the client (a ``--worker`` module's or
    ``--data-converter``'s); None for temporalio's default."""
    codec: CodecSettings | None = field(default=None, repr=False)
    """A remote codec server that the client's payloads pass through (its ``auth`` is a
    secret, hence no repr)."""


def resolve_settings(options: Mapping[str, Any] | None = None) -> ConnectSettings:
    """Merge explicit options over the environment configuration and the defaults."""
    options = dict(options or {})
    problems = [
        f"unknown connection option '{key}'{did_you_mean(key, CONNECTION_KEYS)}"
        for key in options
        if key not in CONNECTION_KEYS
    ]
    config_file = options.get("config_file")
    if config_file is not None and not Path(str(config_file)).is_file():
        problems.append(f"config_file '{config_file}' does not exist; give the path of a TOML file")
    if problems:
        raise InvalidOptions(problems, what="connection options")

    try:
        profile = ClientConfigProfile.load(
            profile=options.get("profile"),
            config_source=Path(str(config_file)) if config_file else None,
        )
    except Exception as e:  # the Rust loader raises plain RuntimeError/ValueError
        raise InvalidOptions(
            [f"cannot read the Temporal environment configuration: {e}"], what="connection options"
        ) from None
    base = profile.to_client_connect_config()

    address = options.get("address") or base.get("target_host") or DEFAULT_ADDRESS
    namespace = options.get("namespace") or base.get("namespace") or DEFAULT_NAMESPACE
    api_key = options.get("api_key") or base.get("api_key")
    tls: bool | temporalio.service.TLSConfig | None = base.get("tls")
    if options.get("tls") is not None:
        tls = _tls_config(options["tls"])
    elif options.get("api_key") and tls is None:
        tls = True  # an API key only ever travels over TLS
    headers = {**base.get("rpc_metadata", {}), **(options.get("headers") or {})}
    return ConnectSettings(
        address=str(address),
        namespace=str(namespace),
        api_key=str(api_key) if api_key else None,
        tls=tls,
        identity=options.get("identity"),
        headers={str(k): str(v) for k, v in headers.items()},
        codec=resolve_codec(options),
    )


def _tls_config(tls: Any) -> bool | temporalio.service.TLSConfig:
    if isinstance(tls, bool):
        return tls
    if not isinstance(tls, Mapping):
        raise InvalidOptions(
            [f"tls must be true, false or a mapping of {', '.join(TLS_KEYS)}"],
            what="connection options",
        )
    problems = [
        f"unknown tls option '{key}'{did_you_mean(key, TLS_KEYS)}"
        for key in tls
        if key not in TLS_KEYS
    ]
    files: dict[str, bytes | None] = {}
    for key in ("server_ca_cert", "client_cert", "client_key"):
        path = tls.get(key)
        if path is None:
            files[key] = None
            continue
        try:
            files[key] = Path(os.path.expanduser(str(path))).read_bytes()
        except OSError as e:
            problems.append(
                f"tls.{key}: cannot read '{path}' ({e.strerror}); give the path of a PEM file"
            )
    if (files.get("client_cert") is None) != (files.get("client_key") is None):
        problems.append("tls.client_cert and tls.client_key go together; give both or neither")
    if problems:
        raise InvalidOptions(problems, what="connection options")
    return temporalio.service.TLSConfig(
        server_root_ca_cert=files["server_ca_cert"],
        client_cert=files["client_cert"],
        client_private_key=files["client_key"],
        domain=tls.get("server_name"),
    )


def _settings(options: Mapping[str, Any] | ConnectSettings | None) -> ConnectSettings:
    return options if isinstance(options, ConnectSettings) else resolve_settings(options)


async def _connect(settings: ConnectSettings, *, lazy: bool) -> Client:
    kwargs: dict[str, Any] = {
        "namespace": settings.namespace,
        "api_key": settings.api_key,
        "tls": settings.tls if settings.tls is not None else False,
        "rpc_metadata": dict(settings.headers),
        "lazy": lazy,
    }
    if settings.identity:
        kwargs["identity"] = settings.identity
    if settings.codec is not None:
        kwargs["data_converter"] = with_codec(
            settings.data_converter, settings.codec, settings.namespace
        )
    elif settings.data_converter is not None:
        kwargs["data_converter"] = settings.data_converter
    return await Client.connect(settings.address, **kwargs)


async def create_client(
    options: Mapping[str, Any] | ConnectSettings | None = None, timeout: float = 5.0
) -> Client:
    """Connect and verify, within ``timeout`` seconds in all, that the server answers and
    the namespace exists. Raises :class:`ConnectionFailed` naming the address and namespace.

    ``options`` are settings resolved already, or options to resolve, which may carry
    ``connect_timeout`` (overrides ``timeout``) and ``lazy: true`` (then nothing is
    verified, as with :func:`create_client_async`).
    """
    if isinstance(options, Mapping) and options.get("lazy"):
        return await create_client_async(options)
    if isinstance(options, Mapping) and options.get("connect_timeout") is not None:
        timeout = parse_duration(options["connect_timeout"]).total_seconds()
    settings = _settings(options)

    async def connect_and_verify() -> Client:
        client = await _connect(settings, lazy=False)
        await client.workflow_service.describe_namespace(
            wsv1.DescribeNamespaceRequest(namespace=settings.namespace)
        )
        return client

    try:
        return await asyncio.wait_for(connect_and_verify(), timeout)
    except (asyncio.TimeoutError, temporalio.service.RPCError, RuntimeError, ValueError) as e:
        raise connection_failed(e, settings, timeout=timeout) from e


async def create_client_async(options: Mapping[str, Any] | ConnectSettings | None = None) -> Client:
    """A client that connects on first use: nothing is checked now."""
    settings = _settings(options)
    try:
        return await _connect(settings, lazy=True)
    except (RuntimeError, ValueError) as e:
        raise connection_failed(e, settings, lazy=True) from e
