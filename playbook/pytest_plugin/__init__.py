"""The pytest plugin: playbook files as tests, and the ``run_playbook`` fixture.

Registered as the ``pytest11`` entry point ``playbook`` (``-p no:playbook`` turns it off);
pytest finds the hooks and the fixture among this package's names.

- :mod:`~playbook.pytest_plugin.hooks`: the options (command line over ini), configure and
  unconfigure, the header, which files are collected;
- :mod:`~playbook.pytest_plugin.items`: a playbook file, its test item, the failure report
  (:func:`explain`);
- :mod:`~playbook.pytest_plugin.session`: what the runs of a session share (the run
  environment of :mod:`playbook.environment` on one background event loop);
- :mod:`~playbook.pytest_plugin.fixture`: ``run_playbook``.
"""

from playbook.pytest_plugin.fixture import RunPlaybook, run_playbook
from playbook.pytest_plugin.hooks import (
    pytest_addoption,
    pytest_collect_file,
    pytest_configure,
    pytest_report_header,
    pytest_unconfigure,
)
from playbook.pytest_plugin.items import PlaybookFailed, explain
from playbook.pytest_plugin.session import PlaybookSession

__all__ = [
    "PlaybookFailed",
    "PlaybookSession",
    "RunPlaybook",
    "explain",
    "pytest_addoption",
    "pytest_collect_file",
    "pytest_configure",
    "pytest_report_header",
    "pytest_unconfigure",
    "run_playbook",
]
