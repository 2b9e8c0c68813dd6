"""What the server says, as plain values for records and templates: times as ISO 8601 in
UTC, enum values as their lower-case words, payloads decoded with the client's data
converter, and any protobuf message (a history event's attributes, say) as a mapping of its
set fields.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

import temporalio.api.common.v1 as common
import temporalio.converter
from google.protobuf import duration_pb2, timestamp_pb2
from google.protobuf.descriptor import EnumDescriptor, FieldDescriptor
from google.protobuf.message import Message

from playbook.durations import format_duration


def jsonable(value: Any) -> Any:
    """``value`` with its datetimes as ISO 8601 strings (UTC when they know their zone)."""
    if isinstance(value, datetime):
        return (value.astimezone(timezone.utc) if value.tzinfo else value).isoformat()
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    return value


def time_of(message: Message, name: str) -> str | None:
    """The timestamp field ``name`` of ``message`` in ISO 8601 (UTC), or None when unset."""
    if not message.HasField(name):
        return None
    stamp: timestamp_pb2.Timestamp = getattr(message, name)
    return stamp.ToDatetime(timezone.utc).isoformat()


def snake(words: str) -> str:
    """``ContinuedAsNew`` -> ``continued_as_new``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", words).lower()


def enum_word(descriptor: EnumDescriptor | None, number: int) -> str | None:
    """An enum value as a lower-case word without its type's prefix:
    ``PARENT_CLOSE_POLICY_TERMINATE`` -> ``terminate``; None for the unspecified value."""
    value = descriptor.values_by_number.get(number) if descriptor else None
    if descriptor is None or value is None:
        return str(number)
    prefix = snake(descriptor.name).upper() + "_"
    word = value.name.removeprefix(prefix).lower()
    return None if word == "unspecified" else word


async def payload(converter: temporalio.converter.DataConverter, raw: common.Payload) -> Any:
    """A payload's value, decoded as the workers encoded it; one that does not decode (a
    codec this client lacks, a binary encoding) stays ``{encoding, data}`` (data base64)."""
    try:
        [value] = await converter.decode([raw])
    except Exception:
        encoding = raw.metadata.get("encoding", b"").decode("utf-8", "replace")
        return {"encoding": encoding, "data": base64.b64encode(raw.data).decode()}
    return jsonable(value)


async def plain(converter: temporalio.converter.DataConverter, message: Message) -> Any:
    """The set fields of ``message`` as plain values (payloads decoded, times in ISO 8601,
    durations as ``10s``, enums as words, 64-bit integers as integers)."""
    if isinstance(message, common.Payload):
        return await payload(converter, message)
    if isinstance(message, common.Payloads):
        return [await payload(converter, p) for p in message.payloads]
    if isinstance(message, timestamp_pb2.Timestamp):
        return jsonable(message.ToDatetime(timezone.utc))
    if isinstance(message, duration_pb2.Duration):
        return format_duration(timedelta(seconds=message.ToNanoseconds() / 1e9))
    out: dict[str, Any] = {}
    for field, value in message.ListFields():
        out[field.name] = await _field(converter, field, value)
    return out


async def _field(
    converter: temporalio.converter.DataConverter, field: FieldDescriptor, value: Any
) -> Any:
    if field.message_type is not None and field.message_type.GetOptions().map_entry:
        entry = field.message_type.fields_by_name["value"]
        return {str(k): await _one(converter, entry, v) for k, v in value.items()}
    if field.is_repeated:
        return [await _one(converter, field, v) for v in value]
    return await _one(converter, field, value)


async def _one(
    converter: temporalio.converter.DataConverter, field: FieldDescriptor, value: Any
) -> Any:
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        return await plain(converter, value)
    if field.type == FieldDescriptor.TYPE_ENUM:
        return enum_word(field.enum_type, value)
    if field.type == FieldDescriptor.TYPE_BYTES:
        return base64.b64encode(value).decode()
    return value
