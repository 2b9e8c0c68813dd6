"""How much YAML a playbook file may hold, and the messages that refuse more.

The other modules read these limits as ``limits.MAX_NODES`` (not a copy of the value),
so that a test which lowers one lowers it everywhere, messages included.
"""

from __future__ import annotations

MAX_FILE_BYTES = 1_000_000
MAX_NODES = 200_000  # after alias expansion
CHARS_PER_NODE = 50  # a string counts as one more node per 50 characters (expanded text)
MAX_DEPTH = 100


def too_deep() -> str:
    return f"the data nests deeper than {MAX_DEPTH} levels; flatten it"


def too_many(aliased: bool) -> str:
    if aliased:
        return (
            f"too many nodes after alias expansion (more than {MAX_NODES}); "
            "the file is refused (billion-laughs protection)"
        )
    return f"too many nodes (more than {MAX_NODES}); split the playbook into smaller ones"


def too_big(size: int | None) -> str:
    what = "" if size is None else f" {size} bytes,"
    return f"the file is{what} over the limit of {MAX_FILE_BYTES} bytes; split it into smaller playbooks"
