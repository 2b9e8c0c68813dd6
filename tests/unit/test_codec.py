"""The remote codec: where its settings come from (options, environment, TOML profile), and
the HTTP protocol against the tests' own codec server on loopback."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.converter import DataConverter

from playbook.core.codec import CodecFailed, CodecSettings, RemoteCodec, resolve_codec, with_codec
from playbook.errors import InvalidOptions
from tests.codec_server import ENCODING, codec_server

PROFILE = """\
[profile.default]
address = "localhost:7233"

[profile.default.codec]
endpoint = "http://codec.example:8081/{namespace}"
auth = "Bearer from-default"

[profile.prod.codec]
endpoint = "https://codec.prod.example"
"""


def test_the_run_options_win_over_the_environment_and_the_profile(tmp_path: Path) -> None:
    (tmp_path / "temporal.toml").write_text(PROFILE)
    environ = {
        "TEMPORAL_CONFIG_FILE": str(tmp_path / "temporal.toml"),
        "TEMPORAL_CODEC_ENDPOINT": "http://env.example",
        "TEMPORAL_CODEC_AUTH": "Bearer from-env",
    }
    options = {"codec_endpoint": "http://flag.example", "codec_auth": "Bearer from-flag"}
    assert resolve_codec(options, environ) == CodecSettings(
        "http://flag.example", "Bearer from-flag"
    )
    assert resolve_codec({}, environ) == CodecSettings("http://env.example", "Bearer from-env")


def test_the_toml_profiles_codec_table_is_honoured(tmp_path: Path) -> None:
    (tmp_path / "temporal.toml").write_text(PROFILE)
    environ = {"TEMPORAL_CONFIG_FILE": str(tmp_path / "temporal.toml")}
    assert resolve_codec({}, environ) == CodecSettings(
        "http://codec.example:8081/{namespace}", "Bearer from-default"
    )
    assert resolve_codec({"profile": "prod"}, environ) == CodecSettings(
        "https://codec.prod.example", None
    )
    environ["TEMPORAL_PROFILE"] = "prod"
    assert resolve_codec({}, environ) == CodecSettings("https://codec.prod.example", None)
    assert resolve_codec({}, {"XDG_CONFIG_HOME": str(tmp_path / "none")}) is None


def test_the_default_config_file_is_the_clis(tmp_path: Path) -> None:
    folder = tmp_path / "temporalio"
    folder.mkdir()
    (folder / "temporal.toml").write_text(PROFILE)
    found = resolve_codec({}, {"XDG_CONFIG_HOME": str(tmp_path)})
    assert found == CodecSettings("http://codec.example:8081/{namespace}", "Bearer from-default")


def test_an_embedded_server_takes_nothing_of_the_environment(tmp_path: Path) -> None:
    (tmp_path / "temporal.toml").write_text(PROFILE)
    assert resolve_codec({"codec_endpoint": "http://flag.example"}, environ={}) == CodecSettings(
        "http://flag.example", None
    )


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        (
            {"codec_auth": "Bearer x"},
            "codec_auth is given without a codec endpoint; give --codec-endpoint URL too",
        ),
        (
            {"codec_endpoint": "codec.example:8081"},
            "codec endpoint 'codec.example:8081' is not an http:// or https:// URL",
        ),
    ],
)
def test_bad_codec_settings_are_usage_errors(options: dict[str, str], problem: str) -> None:
    with pytest.raises(InvalidOptions) as raised:
        resolve_codec(options, {"XDG_CONFIG_HOME": "/nonexistent"})
    assert raised.value.problems == [problem]


def test_a_broken_profile_file_says_which_file(tmp_path: Path) -> None:
    (tmp_path / "temporal.toml").write_text("[profile.default\n")
    with pytest.raises(InvalidOptions) as raised:
        resolve_codec({"config_file": str(tmp_path / "temporal.toml")}, {"X": "1"})
    (problem,) = raised.value.problems
    assert problem.startswith(
        f"cannot read the Temporal environment configuration {tmp_path / 'temporal.toml'}: "
    )


def test_payloads_round_trip_through_the_codec_server() -> None:
    plain = DataConverter.default.payload_converter.to_payloads([{"order": 7}, "two"])
    with codec_server(auth="Bearer s3cret") as server:
        codec = RemoteCodec(
            CodecSettings(server.url + "/{namespace}", "Bearer s3cret"), namespace="orders"
        )
        encoded = asyncio.run(codec.encode(plain))
        decoded = asyncio.run(codec.decode(encoded))
    assert [p.metadata["encoding"] for p in encoded] == [ENCODING, ENCODING]
    assert decoded == plain
    assert server.seen == [
        ("/orders/encode", "orders", "Bearer s3cret"),
        ("/orders/decode", "orders", "Bearer s3cret"),
    ]


def test_a_data_converter_encodes_through_the_server() -> None:
    with codec_server() as server:
        converter = with_codec(None, CodecSettings(server.url), namespace="default")
        payloads = asyncio.run(converter.encode(["hello"]))
        assert asyncio.run(converter.decode(payloads)) == ["hello"]
    assert payloads[0].metadata["encoding"] == ENCODING
    assert [path for path, _, _ in server.seen] == ["/encode", "/decode"]


def test_a_refused_request_names_the_server_and_the_fix() -> None:
    with codec_server(auth="Bearer right") as server:
        codec = RemoteCodec(CodecSettings(server.url, "Bearer wrong"), namespace="default")
        with pytest.raises(CodecFailed) as raised:
            asyncio.run(codec.encode([Payload(data=b"x")]))
    assert str(raised.value) == (
        f"codec server {server.url}: cannot encode payloads: it answered HTTP 401 "
        "Unauthorized (check --codec-auth)"
    )


def test_an_unreachable_server_says_so() -> None:
    with codec_server() as server:
        url = server.url  # the port is free again once the server has stopped
    codec = RemoteCodec(CodecSettings(url), namespace="default")
    with pytest.raises(CodecFailed) as raised:
        asyncio.run(codec.decode([Payload(data=b"x")]))
    message = str(raised.value)
    assert message.startswith(f"codec server {url}: cannot decode payloads: cannot reach it (")
    assert message.endswith("); check --codec-endpoint and that it is up")


def test_no_payloads_make_no_request() -> None:
    codec = RemoteCodec(CodecSettings("http://127.0.0.1:9"), namespace="default")
    assert asyncio.run(codec.encode([])) == []


def test_the_auth_is_not_in_the_settings_repr() -> None:
    assert "s3cret" not in repr(CodecSettings("http://x", "Bearer s3cret"))
