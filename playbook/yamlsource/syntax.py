"""PyYAML's and libyaml's syntax errors as our messages: what is wrong, then what to do."""

from __future__ import annotations

import yaml

from playbook.yamlsource import limits

# What to do about PyYAML's and libyaml's syntax errors, by a word of their problem or context.
_HINTS = (
    ("escape", "use a valid escape sequence, or single quotes"),
    ("quoted scalar", "close the quote"),
    (
        "mapping values are not allowed",
        "quote the value if it contains ': ', or fix the indentation",
    ),
    ("expected ':'", "check the indentation, and that each key ends with ': '"),
    ("',' or ']'", "close the list with ']', or separate its items with ','"),
    ("',' or '}'", "close the mapping with '}', or separate its entries with ','"),
    ("block end", "check the indentation of this line"),
    ("expected key", "check the indentation of this line"),
    ("'-' indicator", "check the indentation of this line"),
    ("undefined alias", "define the anchor (&name) before an alias (*name) uses it"),
)


def rephrase(error: yaml.MarkedYAMLError, lines: list[str]) -> str:
    """The parser's problem text as ours: what is wrong, then what to do."""
    problem = (error.problem or "").strip()
    context = (error.context or "").strip()
    if "maximum nesting depth" in problem:  # libyaml's own limit (1000 levels), met when
        return limits.too_deep()  # its scanner reads far ahead of our composer's count
    message = f"invalid YAML: {problem} {context}".strip()
    start, at = error.context_mark, error.problem_mark
    if (
        start
        and at
        and context.startswith("while")
        and (start.line, start.column) != (at.line, at.column)
    ):
        message += f" (started at line {start.line + 1}, column {start.column + 1})"
    line = lines[at.line] if at and at.line < len(lines) else ""
    if at and line[at.column : at.column + 1] == "\t":
        hint = "indent with spaces; YAML does not allow tabs there"
    else:
        words = f"{problem} {context}"
        hint = next((hint for word, hint in _HINTS if word in words), "check the YAML syntax here")
    return f"{message}; {hint}"
