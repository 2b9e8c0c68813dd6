"""The playbook JSON Schema: where it lives, and checking a document against it."""

from __future__ import annotations

import functools
import json
from importlib import resources
from pathlib import Path
from typing import Any

SCHEMA_NAME = "playbook.schema.json"


@functools.lru_cache(maxsize=1)
def schema_text() -> str:
    """The schema as shipped: inside the wheel, or ``schemas/`` of a source checkout."""
    packaged = resources.files("playbook").joinpath(SCHEMA_NAME)
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    source = Path(__file__).resolve().parent.parent / "schemas" / SCHEMA_NAME
    return source.read_text(encoding="utf-8")


@functools.lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(schema_text())
    return loaded
