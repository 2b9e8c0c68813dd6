"""How ``playbook run``'s command-line options become a run request's fields: the
connection options as core names them, and tag lists (shared with the durable commands)."""

from __future__ import annotations

from typing import Any

_CONNECTION_OPTIONS = (
    "address",
    "namespace",
    "profile",
    "config_file",
    "api_key",
    "connect_timeout",
    "codec_endpoint",
    "codec_auth",
)
_TLS_OPTIONS = {
    "tls_server_name": "server_name",
    "tls_ca_cert": "server_ca_cert",
    "tls_cert": "client_cert",
    "tls_key": "client_key",
}


def connection_options(options: dict[str, Any]) -> dict[str, Any]:
    """The connection options (taken out of ``options``) as core names them."""
    connection = {k: v for k in _CONNECTION_OPTIONS if (v := options.pop(k)) is not None}
    tls_files = {name: v for key, name in _TLS_OPTIONS.items() if (v := options.pop(key))}
    tls = options.pop("tls")
    if tls_files:
        connection["tls"] = tls_files
    elif tls is not None:
        connection["tls"] = tls
    return connection


def tag_set(text: str | None) -> frozenset[str]:
    return frozenset(t.strip() for t in (text or "").split(",") if t.strip())
