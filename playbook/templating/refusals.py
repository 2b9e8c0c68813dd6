"""What a render raises from inside the sandbox, before it becomes our ``TemplateError``.

``Refused`` is a refusal by the sandbox (it leaves as ``TemplateSecurityError``);
``Missing`` is a use of an undefined value, carrying the ``Undefined`` so that the message
can name the mapping or list it was looked up in. ``messages`` translates both.
"""

from __future__ import annotations

from jinja2.exceptions import UndefinedError
from jinja2.runtime import Undefined

INTERNALS_HINT = "use the values in inputs, vars, env, steps and run"
# Names that only ever appear in attempts to break out of a template sandbox (Flask's
# `config`/`request`, Jinja's default globals that we removed, builtins...).
ESCAPE_NAMES = frozenset(
    {
        "lipsum",
        "cycler",
        "joiner",
        "config",
        "request",
        "url_for",
        "get_flashed_messages",
        "builtins",
        "import",
        "os",
        "sys",
        "subprocess",
        "eval",
        "exec",
        "open",
        "getattr",
        "globals",
        "locals",
    }
)


class Refused(Exception):
    """Raised inside a render when the sandbox refuses; becomes TemplateSecurityError."""


class Missing(UndefinedError):
    """An undefined value was used; carries the Undefined so the message can name things."""

    def __init__(self, message: str | None = None, *, undefined: Undefined) -> None:
        super().__init__(message)
        self.undefined = undefined


def internals(name: object) -> Refused:
    """The refusal for a name that reaches for Python internals."""
    return Refused(f"templates cannot access Python internals ({name!r}); {INTERNALS_HINT}")
