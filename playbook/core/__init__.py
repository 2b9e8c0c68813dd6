"""The client core: a Python rendition of the Clojure SDK's ``temporal.client.core``.

One function per seed function, usable without any YAML::

    client = await create_client({"address": "127.0.0.1:7233"})
    order = create_workflow(client, "OrderWorkflow", {"task_queue": "orders"})
    await start(order, [{"customer": "alice"}])
    await signal(order, "add_item", [{"sku": "ABC", "qty": 2}])
    print(await query(order, "status"))
    print(await get_result(order, timeout=60))

Every failure is one of the errors in :mod:`playbook.errors`, with temporalio's exception
chained. The modules: ``connection`` (settings and clients), ``stub`` (what an operation acts
on), ``operations`` (the seed's calls), ``guard`` (the path of a call, and of a failed one),
``errors`` (the one place temporalio's exceptions become ours), ``task_failures`` (a
workflow whose task fails on the worker) and ``pollers`` (whether a worker polls a queue).
The ops of SPEC section 12: ``batch`` (batch jobs on the server, guarded by
``max_affected``), ``reset`` (one workflow; the stub follows the new run), ``schedules``;
``aimed`` guards their calls, which aim at no single workflow.
"""

from playbook.core.connection import (
    ConnectSettings,
    create_client,
    create_client_async,
    resolve_settings,
)
from playbook.core.operations import (
    cancel,
    describe,
    explain_stall,
    get_result,
    get_update_handle,
    query,
    signal,
    signal_with_start,
    stall_hint,
    start,
    start_update,
    terminate,
    update,
    update_with_start,
)
from playbook.core.stub import UpdateHandle, WorkflowStub, create_workflow
from playbook.deadline import within
from playbook.durations import parse_duration
from playbook.options import infer_search_attribute

__all__ = [
    "ConnectSettings",
    "UpdateHandle",
    "WorkflowStub",
    "cancel",
    "create_client",
    "create_client_async",
    "create_workflow",
    "describe",
    "explain_stall",
    "get_result",
    "get_update_handle",
    "infer_search_attribute",
    "parse_duration",
    "query",
    "resolve_settings",
    "signal",
    "signal_with_start",
    "stall_hint",
    "start",
    "start_update",
    "terminate",
    "update",
    "update_with_start",
    "within",
]
