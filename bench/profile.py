"""Profile one ``playbook`` command in-process with pyinstrument (``pip install
pyinstrument``; not a dependency of the project).

``python bench/profile.py OUT.txt run bench/fanout.yaml --address A -q ...`` runs the
command as ``python -m playbook`` would and writes pyinstrument's text report to OUT.txt
(and OUT.html and OUT.pyisession next to it). ``bench/run.py --profile`` uses it on the fan-out and
per-step playbooks.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def main(out: str, args: list[str]) -> int:
    from pyinstrument import Profiler

    from playbook.cli import _run_cli

    profiler = Profiler(interval=0.0005, async_mode="disabled")
    profiler.start()
    try:
        code = _run_cli(args)
    finally:
        profiler.stop()
    path = Path(out)
    path.write_text(profiler.output_text(unicode=True, show_all=False, short_mode=False))
    path.with_suffix(".html").write_text(profiler.output_html())
    if profiler.last_session is not None:  # re-render with: pyinstrument --load=FILE
        profiler.last_session.save(str(path.with_suffix(".pyisession")))
    return code


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit("usage: python bench/profile.py OUT.txt PLAYBOOK-ARGS...")
    code = main(sys.argv[1], sys.argv[2:])
    sys.stdout.flush()
    os._exit(code)  # as playbook.cli.main: temporalio's threads must not hang the exit
