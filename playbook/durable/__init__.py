"""Durable runs (SPEC section 15, docs/durable.md): the playbook interpreter as a Temporal
workflow, spread over the workers that poll its task queue.

- :mod:`.interpreter`: the workflow (``PlaybookRun``), running the runner of a local run
  with activities for client calls, durable timers and deterministic sources;
- :mod:`.remote` and :mod:`.calls`: the client calls, from the workflow and in their
  activities (with their idempotency keys); :mod:`.shards`: long loops in child workflows;
- :mod:`.texts`: what a run carries (files as text, inputs, environment) and the model
  rebuilt from it; :mod:`.sealing`: secrets sealed with the workers' key;
- :mod:`.state`: stubs, handler ledgers and results as plain data;
- :mod:`.worker`: ``playbook worker``; :mod:`.commands` and :mod:`.cli`: ``run --durable``,
  ``status``, ``report``, ``approve``, ``deny``, ``cancel``.

Importing this package imports nothing of temporalio; its modules do.
"""
