"""Masking of secret values (secret inputs, API keys, TLS key data) in everything a run
prints or writes: the one place that knows every printed form of a secret.

A secret shows up in output in more shapes than its raw text, so :class:`Masker` replaces
each of these by ``***``:

* the raw text, and the text as Python (``repr``, ``ascii``, of its bytes; in either
  quote style), JSON (``ensure_ascii`` or not, Jinja's ``tojson``), XML, HTML, URLs and
  a shell escape it or quote it, also escaped twice (the ``repr`` of a message that holds
  a ``repr``, the JSON of an HTML-escaped text...);
* each line of a secret that has several (a PEM key printed indented);
* a prefix of at least 3 characters of any of those where a text was cut: before ``...``
  or ``…``, at the end of a line or of the text; and a suffix just after ``...``. A
  truncated text that cuts a secret loses the rest (a text that merely ends with the first
  3 characters of a secret loses those too); a start of at least 16 characters anywhere;
* a number secret (an integer or a float input) wherever its digits show, and a number in
  data whose digits hold a secret;
* every leaf of an object or array secret, and the whole value as ``str`` and JSON print it.

Derived values (upper-cased, reversed, sliced, base64...) are not the secret and are not
masked; nor are secrets shorter than 3 characters (masking ``1`` would mask every 1).
"""

from __future__ import annotations

import bisect
import contextlib
import html
import json
import logging
import re
import shlex
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import quote, quote_plus

MASK = "***"
MIN_LENGTH = 3

ENVIRONMENT_SECRETS = ("TEMPORAL_API_KEY", "TEMPORAL_TLS_CLIENT_KEY_DATA", "TEMPORAL_CODEC_AUTH")
"""Variables of the Temporal environment configuration whose values are secrets."""

_CUT = re.compile(r"\.\.\.|…")
LONG_PREFIX = 16
"""A start of a secret this long is masked wherever it stands (shorter ones only where a
text was cut): it is no accident."""
_BOUNDARY = re.compile(r"\.\.\.|…|\r?\n")  # (and the end of the text)
_TOJSON = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "'": "\\u0027"}
_XML_ATTRIBUTE = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\n": "&#10;"}
_XML_ATTRIBUTE |= {"\r": "&#13;", "\t": "&#09;"}  # as ElementTree writes attributes
_SAX_ATTRIBUTE = _XML_ATTRIBUTE | {"\t": "&#9;"}  # as xml.sax.saxutils.quoteattr does,
_SAX_BARE = {k: v for k, v in _SAX_ATTRIBUTE.items() if k != '"'}  # '-quoted or "-quoted
_MARKUPSAFE = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&#34;", "'": "&#39;"}


def _chars(text: str, table: Mapping[str, str]) -> str:
    return "".join(table.get(c, c) for c in text)


def _python(show: Callable[[str], str], quote_escaped: bool) -> Callable[[str], str]:
    """The body of ``repr``/``ascii``: per character, the quote escaped only in the style
    that needs it (a text with ``'`` and no ``"`` is shown in double quotes)."""
    return lambda s: "".join("\\'" if c == "'" and quote_escaped else show(c)[1:-1] for c in s)


def _tojson(s: str) -> str:
    return _chars(json.dumps(s)[1:-1], _TOJSON)


def _bytes(quote_escaped: bool) -> Callable[[str], str]:
    """The body of the ``repr`` of the text's UTF-8 bytes (``b'caf\\xc3\\xa9'``)."""

    def show(s: str) -> str:
        encoded = s.encode("utf-8", "surrogatepass")
        body = "".join(repr(bytes([byte]))[2:-1] for byte in encoded)
        return body.replace("'", "\\'") if quote_escaped else body

    return show


def _shell(s: str) -> str:
    """The text as a shell quotes it, without the outer quotes (a text is shown quoted)."""
    quoted = shlex.quote(s)
    return quoted[1:-1] if quoted != s and quoted[:1] == quoted[-1:] == "'" else quoted


_ESCAPES: tuple[Callable[[str], str], ...] = (
    _python(repr, True),
    _python(repr, False),
    _python(ascii, True),
    _python(ascii, False),
    _bytes(True),
    _bytes(False),
    lambda s: json.dumps(s)[1:-1],
    lambda s: json.dumps(s, ensure_ascii=False)[1:-1],
    _tojson,
    lambda s: s.replace("'", "''"),
    lambda s: s.replace('"', '""'),
    _shell,
    lambda s: html.escape(s, quote=False),
    html.escape,
    lambda s: _chars(s, _XML_ATTRIBUTE),
    lambda s: _chars(s, _SAX_ATTRIBUTE),
    lambda s: _chars(s, _SAX_BARE),
    lambda s: _chars(s, _MARKUPSAFE),
    lambda s: quote(s, safe=""),
    lambda s: quote(s),
    quote_plus,
)
"""How output escapes a text: as Python (``repr``, ``ascii``, of the text or of its
bytes, in either quote style), JSON (``ensure_ascii`` or not, Jinja's ``tojson``), SQL,
YAML and CSV (the quote doubled), a shell, XML, HTML and URLs do."""


def printed_forms(secret: str) -> set[str]:
    """Every form in which output can carry ``secret``'s text: as it is, and escaped once
    or twice (the ``repr`` of a message that holds a ``repr``, a JSON report of it...)."""
    once = {escape(secret) for escape in _ESCAPES}
    return {secret} | once | {second(form) for form in once for second in _ESCAPES}


def _number_text(value: int | float) -> str | None:
    try:
        return repr(value)
    except ValueError:  # an integer past Python's 4,300-digit limit for str()
        return None


class Masker:
    """Replaces every known secret value, in each of its printed forms, inside strings and
    recursively through data."""

    def __init__(self, secrets: Iterable[Any] = ()) -> None:
        self._texts: set[str] = set()
        self._numbers: set[str] = set()
        self._forms: list[str] = []  # the string secrets' forms, longest first (for cuts)
        self._pattern: re.Pattern[str] | None = None
        self._ends: re.Pattern[str] | None = None  # their first and last 3 characters
        for secret in secrets:
            self.add(secret)

    def add(self, secret: Any) -> None:
        """Mask ``secret`` from now on: a string, a number, or every leaf of an object or
        array (and the whole of it as printed). ``None``, booleans and values shorter than
        3 characters are left alone."""
        if secret is None or isinstance(secret, bool):
            return
        if isinstance(secret, (int, float)):
            text = _number_text(secret)
            if text is not None and len(text) >= MIN_LENGTH and text not in self._numbers:
                self._numbers.add(text)
                self._pattern = None
            return
        if isinstance(secret, (Mapping, list, tuple)):
            leaves = secret.values() if isinstance(secret, Mapping) else secret
            for leaf in leaves:
                self.add(leaf)
            for whole in _wholes(secret):
                self.add(whole)
            return
        text = secret if isinstance(secret, str) else str(secret)
        if len(text) >= MIN_LENGTH and text not in self._texts:
            self._texts.add(text)
            self._pattern = None
            lines = text.splitlines()
            if len(lines) > 1:  # (each of them, as printed indented or line by line)
                for line in lines:
                    self.add(line.strip())

    def __bool__(self) -> bool:
        return bool(self._texts or self._numbers)

    def _compile(self) -> re.Pattern[str]:
        if self._pattern is None:
            forms: set[str] = set()
            for text in self._texts:
                forms |= printed_forms(text)
            self._forms = sorted(forms, key=len, reverse=True)
            every = sorted(forms | self._numbers, key=len, reverse=True)
            self._pattern = re.compile("|".join(map(re.escape, every)))
            ends = {form[:MIN_LENGTH] for form in forms} | {form[-MIN_LENGTH:] for form in forms}
            self._ends = re.compile("|".join(map(re.escape, ends))) if ends else None
        return self._pattern

    def text(self, value: str) -> str:
        """``value`` with every form of every secret replaced by ``***``."""
        if not self:
            return value
        masked = self._compile().sub(MASK, value)
        if self._ends is not None and self._ends.search(masked):
            masked = self._cut(masked)
        return self._long_prefixes(masked)

    def _long_prefixes(self, text: str) -> str:
        """Mask a long start of a secret wherever it stands, cut with no mark and followed
        by more text (``%.200R`` in a message that goes on, as Python's own errors do)."""
        spans: list[tuple[int, int]] = []
        for form in self._forms:
            if len(form) <= LONG_PREFIX:
                continue
            position = text.find(form[:LONG_PREFIX])
            while position != -1:
                end = position + LONG_PREFIX
                while (
                    end < len(text)
                    and end - position < len(form)
                    and (text[end] == form[end - position])
                ):
                    end += 1
                spans.append((position, end))
                position = text.find(form[:LONG_PREFIX], end)
        return _masked_spans(text, spans)

    def _cut(self, text: str) -> str:
        """Mask what is left of a secret where a text was cut: a prefix before ``...``, at
        the end of a line or of the text (CPython cuts its own messages without a mark),
        and a suffix after ``...``."""
        spans: list[tuple[int, int]] = []
        cuts = [cut.start() for cut in _BOUNDARY.finditer(text)] + [len(text)]
        for form in self._forms:
            position = text.find(form[:MIN_LENGTH])
            while position != -1:
                end = cuts[bisect.bisect_left(cuts, position + MIN_LENGTH)]
                if end - position < len(form):
                    if form.startswith(text[position:end]):
                        spans.append((position, end))
                    position += 1
                else:  # too far from the next cut, and so is every start before this one
                    position = end - len(form) + 1
                position = text.find(form[:MIN_LENGTH], position)
        for marker in _CUT.finditer(text):
            end = max((_suffix_end(text, form, marker.end()) for form in self._forms), default=0)
            if end:
                spans.append((marker.end(), end))
        return _masked_spans(text, spans)

    def data(self, value: Any, *, numbers: bool = True) -> Any:
        """``value`` with its strings masked, through mappings (keys too) and lists; a
        number whose digits hold a secret becomes ``***`` (unless not ``numbers``: for our
        own numbers, such as line numbers and durations)."""
        if not self:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {self.text(str(k)): self.data(v, numbers=numbers) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.data(v, numbers=numbers) for v in value]
        if numbers and isinstance(value, (int, float)) and not isinstance(value, bool):
            text = _number_text(value)
            if text is not None and self._compile().search(text):
                return MASK
        return value


def _masked_spans(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` with each span (overlapping ones merged) replaced by the mask."""
    if not spans:
        return text
    pieces, done = [], 0
    for start, end in sorted(spans):
        if start >= done:
            pieces += [text[done:start], MASK]
        done = max(done, end)
    return "".join(pieces) + text[done:]


def _wholes(value: Mapping[Any, Any] | list[Any] | tuple[Any, ...]) -> list[str]:
    """An object or array secret as ``str`` and JSON print it whole."""
    wholes = [str(value)]
    for options in ({}, {"ensure_ascii": False}, {"separators": (",", ":")}):
        try:
            wholes.append(json.dumps(value, default=str, **options))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            pass
    return wholes


def _suffix_end(text: str, form: str, cut: int) -> int:
    """Where the longest suffix (of at least 3 characters) of ``form`` that starts at
    ``cut`` ends; 0 if none does."""
    head = text[cut : cut + MIN_LENGTH]
    if len(head) < MIN_LENGTH:
        return 0
    position = form.find(head, 1)
    while position != -1:
        if text.startswith(form[position:], cut):
            return cut + len(form) - position
        position = form.find(head, position + 1)
    return 0


def environment_secrets(environ: Mapping[str, str]) -> list[str]:
    """The values of :data:`ENVIRONMENT_SECRETS` that ``environ`` sets."""
    return [environ[name] for name in ENVIRONMENT_SECRETS if environ.get(name)]


# -- log records ------------------------------------------------------------------------

_ACTIVE: list[Masker] = []
_PLAIN_FACTORY: Callable[..., logging.LogRecord] | None = None


def _masked_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
    """The log record factory while a run is on: the message, the traceback and the stack
    of every record come out masked by every active run's masker."""
    assert _PLAIN_FACTORY is not None
    record = _PLAIN_FACTORY(*args, **kwargs)
    if not any(_ACTIVE):
        return record
    try:
        message = record.getMessage()
    except Exception:  # a record whose arguments do not fit: logging reports it itself
        return record
    record.msg, record.args = _mask_all(message), None
    if record.exc_info and not record.exc_text:
        record.exc_text = _mask_all(logging.Formatter().formatException(record.exc_info))
    if record.stack_info:
        record.stack_info = _mask_all(record.stack_info)
    return record


def _mask_all(text: str) -> str:
    for masker in list(_ACTIVE):
        text = masker.text(text)
    return text


@contextlib.contextmanager
def masked_logs(masker: Masker) -> Iterator[None]:
    """While the block runs, every log record of this process (the in-process worker's
    workflow and activity logs, the SDK's warnings with their tracebacks) is masked with
    ``masker``, whatever handler then prints it. Runs may overlap (``--jobs``)."""
    global _PLAIN_FACTORY
    if logging.getLogRecordFactory() is not _masked_record:
        _PLAIN_FACTORY = logging.getLogRecordFactory()
        logging.setLogRecordFactory(_masked_record)
    _ACTIVE.append(masker)
    try:
        yield
    finally:
        _ACTIVE.remove(masker)
        if not _ACTIVE and logging.getLogRecordFactory() is _masked_record:
            assert _PLAIN_FACTORY is not None
            logging.setLogRecordFactory(_PLAIN_FACTORY)
