"""A small codec server for the tests: the HTTP protocol of the ``temporal`` CLI and Web UI
(``POST /encode``, ``POST /decode``, JSON ``Payloads``) over the tests' own codec, which
XORs a payload's serialised bytes under the encoding ``binary/xor-test``. The same codec as
Python source lets a ``--worker`` module bring it as its data converter."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from google.protobuf import json_format
from temporalio.api.common.v1 import Payload, Payloads

ENCODING = b"binary/xor-test"
KEY = 0x5A

CODEC_SOURCE = """\
import dataclasses
from temporalio.api.common.v1 import Payload
from temporalio.converter import DataConverter, PayloadCodec


class XorCodec(PayloadCodec):
    async def encode(self, payloads):
        return [
            Payload(
                metadata={"encoding": b"binary/xor-test"},
                data=bytes(b ^ 0x5A for b in p.SerializeToString()),
            )
            for p in payloads
        ]

    async def decode(self, payloads):
        out = []
        for p in payloads:
            if p.metadata.get("encoding") != b"binary/xor-test":
                out.append(p)
                continue
            plain = Payload()
            plain.ParseFromString(bytes(b ^ 0x5A for b in p.data))
            out.append(plain)
        return out


data_converter = dataclasses.replace(DataConverter.default, payload_codec=XorCodec())
"""


def encode(payload: Payload) -> Payload:
    data = bytes(b ^ KEY for b in payload.SerializeToString())
    return Payload(metadata={"encoding": ENCODING}, data=data)


def decode(payload: Payload) -> Payload:
    if payload.metadata.get("encoding") != ENCODING:
        return payload
    plain = Payload()
    plain.ParseFromString(bytes(b ^ KEY for b in payload.data))
    return plain


@dataclass
class CodecServer:
    """What the server saw: each request's path, ``X-Namespace`` and ``Authorization``."""

    url: str
    auth: str | None
    seen: list[tuple[str, str | None, str | None]] = field(default_factory=list)


@contextmanager
def codec_server(auth: str | None = None) -> Iterator[CodecServer]:
    """A codec server on a free port of 127.0.0.1 for as long as the block lasts; with
    ``auth``, a request whose ``Authorization`` differs is refused with 401."""
    state = CodecServer(url="", auth=auth)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            given = self.headers.get("Authorization")
            state.seen.append((self.path, self.headers.get("X-Namespace"), given))
            if auth is not None and given != auth:
                self.send_error(401, "Unauthorized")
                return
            # the endpoint may carry a path of its own (``/{namespace}``, say)
            convert = {"encode": encode, "decode": decode}.get(self.path.rsplit("/", 1)[-1])
            if convert is None:
                self.send_error(404, "Not Found")
                return
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            payloads = json_format.Parse(body, Payloads())
            answer = Payloads(payloads=[convert(p) for p in payloads.payloads])
            data = json.dumps(json_format.MessageToDict(answer)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:  # keep test output clean
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
