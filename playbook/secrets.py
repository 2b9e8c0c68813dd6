"""Masking of secret values (secret inputs, API keys) in everything a run prints or writes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

MASK = "***"


class Masker:
    """Replaces every known secret value inside strings, recursively through data."""

    def __init__(self, secrets: Iterable[Any] = ()) -> None:
        self._secrets: list[str] = []
        for secret in secrets:
            self.add(secret)

    def add(self, secret: Any) -> None:
        if secret is None or isinstance(secret, bool):
            return
        text = secret if isinstance(secret, str) else str(secret)
        if len(text) >= 3 and text not in self._secrets:  # masking "1" would mask every 1
            self._secrets.append(text)
            self._secrets.sort(key=len, reverse=True)

    def __bool__(self) -> bool:
        return bool(self._secrets)

    def text(self, value: str) -> str:
        for secret in self._secrets:
            if secret in value:
                value = value.replace(secret, MASK)
        return value

    def data(self, value: Any) -> Any:
        if not self._secrets:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {self.text(str(k)): self.data(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.data(v) for v in value]
        return value
