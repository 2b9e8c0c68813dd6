"""A remote codec server as a temporalio ``PayloadCodec``, and where its settings come from.

temporalio has no remote codec of its own. This one speaks the HTTP protocol that the
``temporal`` CLI and the Web UI use: ``POST {endpoint}/encode`` and ``POST
{endpoint}/decode`` with the JSON form of a ``temporal.api.common.v1.Payloads`` message
(``{"payloads": [{"metadata": {...base64...}, "data": "...base64..."}]}``), the namespace in
an ``X-Namespace`` header and, when given, ``--codec-auth`` verbatim as ``Authorization``.
``{namespace}`` in the endpoint is replaced by the namespace, as the CLI does.

Settings, strongest first: the run's options (``--codec-endpoint``, ``--codec-auth``), the
``TEMPORAL_CODEC_ENDPOINT`` / ``TEMPORAL_CODEC_AUTH`` variables, the ``codec`` table of the
TOML profile (``[profile.<name>.codec]`` with ``endpoint`` and ``auth``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import temporalio.converter
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload, Payloads

from playbook.errors import InvalidOptions, TemporalError

CODEC_TIMEOUT = 30.0
"""Seconds one request to the codec server may take."""


class CodecFailed(TemporalError):
    """The codec server could not encode or decode a payload."""


@dataclass(frozen=True)
class CodecSettings:
    """Where the codec server is and what to send as ``Authorization``."""

    endpoint: str
    auth: str | None = field(default=None, repr=False)


class RemoteCodec(temporalio.converter.PayloadCodec):
    """Encodes and decodes payloads through a codec server."""

    def __init__(self, settings: CodecSettings, namespace: str) -> None:
        self.endpoint = settings.endpoint.replace("{namespace}", namespace).rstrip("/")
        self.namespace = namespace
        self._auth = settings.auth

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return await self._convert("encode", payloads)

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return await self._convert("decode", payloads)

    async def _convert(self, what: str, payloads: Sequence[Payload]) -> list[Payload]:
        if not payloads:
            return []
        body = json_format.MessageToJson(Payloads(payloads=list(payloads))).encode()
        answer = await asyncio.to_thread(self._post, what, body)
        try:
            converted = json_format.Parse(answer, Payloads(), ignore_unknown_fields=True)
        except json_format.ParseError as e:
            raise self._failed(what, f"its answer is not a Payloads message ({e})") from None
        if len(converted.payloads) != len(payloads):
            raise self._failed(
                what, f"it answered {len(converted.payloads)} payloads for {len(payloads)}"
            )
        return list(converted.payloads)

    def _post(self, what: str, body: bytes) -> bytes:
        headers = {"Content-Type": "application/json", "X-Namespace": self.namespace}
        if self._auth:
            headers["Authorization"] = self._auth
        request = urllib.request.Request(
            f"{self.endpoint}/{what}", data=body, headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=CODEC_TIMEOUT) as response:
                data: bytes = response.read()
                return data
        except urllib.error.HTTPError as e:
            e.close()  # it holds the response open
            hint = " (check --codec-auth)" if e.code in (401, 403) else ""
            raise self._failed(what, f"it answered HTTP {e.code} {e.reason}{hint}") from None
        except (urllib.error.URLError, OSError, ValueError) as e:
            reason = getattr(e, "reason", e)
            raise self._failed(
                what, f"cannot reach it ({reason}); check --codec-endpoint and that it is up"
            ) from None

    def _failed(self, what: str, why: str) -> CodecFailed:
        return CodecFailed(f"codec server {self.endpoint}: cannot {what} payloads: {why}")


def with_codec(
    converter: temporalio.converter.DataConverter | None, codec: CodecSettings, namespace: str
) -> temporalio.converter.DataConverter:
    """``converter`` (temporalio's default when None) encoding through the codec server."""
    base = converter or temporalio.converter.DataConverter.default
    return dataclasses.replace(base, payload_codec=RemoteCodec(codec, namespace))


def resolve_codec(
    options: Mapping[str, Any], environ: Mapping[str, str] | None = None
) -> CodecSettings | None:
    """The codec server of a connection: ``options`` (``codec_endpoint``, ``codec_auth``,
    and the ``profile`` and ``config_file`` that locate the TOML profile) over ``environ``
    (the process's environment by default) over the profile; None when nothing names an
    endpoint. An empty ``environ`` reads neither variables nor profile (an embedded server
    takes no settings of the environment's)."""
    environ = os.environ if environ is None else environ
    profile = _profile_codec(options, environ) if environ else {}
    endpoint = (
        options.get("codec_endpoint")
        or environ.get("TEMPORAL_CODEC_ENDPOINT")
        or profile.get("endpoint")
    )
    auth = options.get("codec_auth") or environ.get("TEMPORAL_CODEC_AUTH") or profile.get("auth")
    if not endpoint:
        if auth:
            raise InvalidOptions(
                ["codec_auth is given without a codec endpoint; give --codec-endpoint URL too"],
                what="connection options",
            )
        return None
    endpoint = str(endpoint)
    if not endpoint.startswith(("http://", "https://")):
        raise InvalidOptions(
            [f"codec endpoint '{endpoint}' is not an http:// or https:// URL"],
            what="connection options",
        )
    return CodecSettings(endpoint=endpoint, auth=str(auth) if auth else None)


def _profile_codec(options: Mapping[str, Any], environ: Mapping[str, str]) -> dict[str, Any]:
    """The ``codec`` table of the TOML profile in use, as the ``temporal`` CLI finds it."""
    path = options.get("config_file") or environ.get("TEMPORAL_CONFIG_FILE")
    file = Path(str(path)) if path else _default_config_file(environ)
    if file is None or not file.is_file():
        return {}
    name = str(options.get("profile") or environ.get("TEMPORAL_PROFILE") or "default")
    try:
        data = _toml(file.read_bytes())
    except (OSError, ValueError) as e:
        raise InvalidOptions(
            [f"cannot read the Temporal environment configuration {file}: {e}"],
            what="connection options",
        ) from None
    codec = data.get("profile", {}).get(name, {}).get("codec", {})
    return dict(codec) if isinstance(codec, Mapping) else {}


def _default_config_file(environ: Mapping[str, str]) -> Path | None:
    if sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    elif sys.platform == "win32":
        base = Path(environ.get("APPDATA", Path.home()))
    else:
        base = Path(environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "temporalio" / "temporal.toml"


def _toml(data: bytes) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib  # type: ignore[import-not-found]
    parsed: dict[str, Any] = tomllib.loads(data.decode())
    return parsed
