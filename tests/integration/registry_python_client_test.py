"""Debian's python3-grpcio, with stubs generated from proto/, against accord-registry:
the review workflow, error details, and a watcher that resumes across a restart."""
import os
import queue
import sys
import threading

sys.path.insert(0, os.path.dirname(__file__))
from harness import (Registry, check, error_details, make_persona, publish_persona,  # noqa: E402
                     python_stubs, workdir, write_keys)

python_stubs()
import grpc  # noqa: E402
from accord.registry.v1 import definition_pb2, registry_pb2, registry_pb2_grpc  # noqa: E402

d = workdir("python")
tokens = write_keys(d)


def md(role):
    return (("authorization", "Bearer " + tokens[role]),)


def publish(stub, def_id, summary, create=True):
    return publish_persona(stub, tokens, def_id, summary, create=create)


def watch(address, start_after, history_id, out, stop):
    channel = grpc.insecure_channel(address)
    stub = registry_pb2_grpc.RegistryStub(channel)
    try:
        for message in stub.WatchDefinitions(registry_pb2.WatchDefinitionsRequest(
                parent="namespaces/default", start_after_sequence=start_after,
                history_id=history_id, progress_interval_seconds=1), metadata=md("service")):
            out.put(message)
            if stop.is_set():
                break
    except grpc.RpcError as e:
        out.put(e)


reg = Registry(d)
try:
    channel = grpc.insecure_channel(reg.address)
    stub = registry_pb2_grpc.RegistryStub(channel)

    # Errors carry google.rpc details: a field path and a stable reason.
    bad = make_persona("x")
    bad.buyer_persona.criteria[0].weight = -2
    try:
        stub.CreateDefinition(registry_pb2.CreateDefinitionRequest(
            parent="namespaces/default", definition_id="bad", definition=bad),
            metadata=md("marketing_editor"))
        raise AssertionError("invalid definition accepted")
    except grpc.RpcError as e:
        check(e.code() == grpc.StatusCode.INVALID_ARGUMENT, e)
        reason, fields = error_details(e)
        check(reason == "INVALID_DEFINITION", reason)
        check(("definition.buyer_persona.criteria[0].weight", "must not be negative") in fields,
              fields)
    try:
        stub.GetDefinition(registry_pb2.GetDefinitionRequest(name="x"), metadata=md("viewer"))
        raise AssertionError("bad name accepted")
    except grpc.RpcError as e:
        check(e.code() == grpc.StatusCode.INVALID_ARGUMENT and
              error_details(e)[1][0][0] == "name", e)

    publish(stub, "alpha", "alpha")
    out, stop = queue.Queue(), threading.Event()
    threading.Thread(target=watch, args=(reg.address, 0, "", out, stop), daemon=True).start()
    first = out.get(timeout=10)
    check(first.WhichOneof("payload") == "snapshot_begin", first)
    snap = out.get(timeout=10)
    check([e.definition for e in snap.changes.events] == ["namespaces/default/definitions/alpha"],
          snap)
    end = out.get(timeout=10)
    check(end.WhichOneof("payload") == "snapshot_end" and end.snapshot_end.definition_count == 1,
          end)
    history_id = end.history_id
    publish(stub, "beta", "beta")
    publish(stub, "gamma", "gamma")
    seen, last_seq = [], end.sequence
    while len(seen) < 2:
        m = out.get(timeout=10)
        check(not isinstance(m, Exception), m)
        check(m.sequence > last_seq or m.WhichOneof("payload") == "progress", (m, last_seq))
        last_seq = max(last_seq, m.sequence)
        if m.WhichOneof("payload") == "changes":
            seen += [e.definition.rsplit("/", 1)[1] for e in m.changes.events]
    check(seen == ["beta", "gamma"], seen)
    stop.set()

    # Restart the registry on the same file; resume from the cursor: no gap, no duplicate.
    reg.stop()
    reg = Registry(d)
    stub = registry_pb2_grpc.RegistryStub(grpc.insecure_channel(reg.address))
    publish(stub, "beta", "beta two", create=False)
    publish(stub, "delta", "delta")
    out2, stop2 = queue.Queue(), threading.Event()
    threading.Thread(target=watch, args=(reg.address, last_seq, history_id, out2, stop2),
                     daemon=True).start()
    resumed = []
    while len(resumed) < 2:
        m = out2.get(timeout=10)
        check(not isinstance(m, Exception), m)
        check(m.WhichOneof("payload") in ("changes", "progress"), m)
        if m.WhichOneof("payload") == "changes":
            for e in m.changes.events:
                resumed.append((e.definition.rsplit("/", 1)[1], e.revision.revision_number))
    check(resumed == [("beta", 2), ("delta", 1)], resumed)
    # Progress bookmarks arrive while idle.
    m = out2.get(timeout=5)
    check(m.WhichOneof("payload") == "progress", m)
    stop2.set()

    # A foreign history id forces a resync, never a silent gap.
    out3, stop3 = queue.Queue(), threading.Event()
    threading.Thread(target=watch, args=(reg.address, 3, "other-history", out3, stop3),
                     daemon=True).start()
    m = out3.get(timeout=10)
    check(m.snapshot_begin.reason == registry_pb2.SnapshotBegin.HISTORY_CHANGED, m)
    stop3.set()
    print("registry_python_client_test: ok")
finally:
    reg.stop()
