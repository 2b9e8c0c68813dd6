"""Bugs of ours: an exception that is not a :class:`~playbook.errors.PlaybookError` is an
internal error (exit 3). Its traceback goes to a log file and the user gets one line that
names the file; the run itself still runs ``finally`` and writes its reports."""

from __future__ import annotations

import os
import tempfile
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playbook.secrets import Masker

EXIT_CODE = 3


def log_path() -> Path:
    """Where the traceback goes: ``$PLAYBOOK_LOG_DIR`` or the temporary folder."""
    folder = Path(os.environ.get("PLAYBOOK_LOG_DIR") or tempfile.gettempdir())
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return folder / f"playbook-internal-error-{stamp}-{os.getpid()}.log"


def write_log(error: BaseException, context: str = "", masker: Masker | None = None) -> str | None:
    """Write the traceback (secrets masked); the file's path, or None if it could not be
    written."""
    path = log_path()
    text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    if masker is not None:
        text, context = masker.text(text), masker.text(context)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as log:
            log.write(f"{context}\n{text}\n" if context else f"{text}\n")
    except OSError:
        return None
    return str(path)


def describe(error: BaseException, context: str = "", masker: Masker | None = None) -> str:
    """The one line a user sees for a bug of ours (the traceback is written to a log)."""
    where = write_log(error, context, masker)
    said = f"{type(error).__name__}: {error}"
    said = said if len(said) <= 300 else said[:297] + "..."
    log = f"the traceback is in {where}" if where else "the traceback could not be written"
    return f"internal error: {said} ({log}; please report it)"
