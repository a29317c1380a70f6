"""kill -9 the registry during 200 concurrent writes: every acknowledged write survives
intact, no partial revision, sequences strictly increasing."""
import os
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import Registry, check, python_stubs, workdir, write_keys  # noqa: E402

python_stubs()
import grpc  # noqa: E402
from accord.registry.v1 import definition_pb2, registry_pb2, registry_pb2_grpc  # noqa: E402

d = workdir("crash")
tokens = write_keys(d)
editor = (("authorization", "Bearer " + tokens["marketing_editor"]),)
viewer = (("authorization", "Bearer " + tokens["viewer"]),)

reg = Registry(d)
stub = registry_pb2_grpc.RegistryStub(grpc.insecure_channel(reg.address))
acked_create, acked_propose, lock = [], [], threading.Lock()


def writer(i):
    def_id = f"lead-def-{i:03d}"
    p = definition_pb2.Definition(display_name=def_id)
    c = p.buyer_persona.criteria.add(id="a")
    c.condition.attribute.field = "company.size"
    c.condition.attribute.op = definition_pb2.GE
    c.condition.attribute.value.number_value = i
    try:
        stub.CreateDefinition(registry_pb2.CreateDefinitionRequest(
            parent="namespaces/default", definition_id=def_id, definition=p,
            request_id=f"create-{i}"), metadata=editor, timeout=10)
        with lock:
            acked_create.append(def_id)
        for n in range(3):
            p.display_name = def_id
            p.description = f"edit {n}"
            p.name = f"namespaces/default/definitions/{def_id}"
            stub.UpdateDefinition(registry_pb2.UpdateDefinitionRequest(definition=p),
                                  metadata=editor, timeout=10)
        rev = stub.ProposeRevision(registry_pb2.ProposeRevisionRequest(
            name=f"namespaces/default/definitions/{def_id}"), metadata=editor, timeout=10)
        with lock:
            acked_propose.append((def_id, rev.revision_number, rev.content_hash))
    except grpc.RpcError:
        pass


threads = [threading.Thread(target=writer, args=(i,)) for i in range(200)]
for t in threads:
    t.start()
time.sleep(0.4)
reg.stop(signal.SIGKILL)
for t in threads:
    t.join()
print(f"acknowledged before the kill: {len(acked_create)} creates, {len(acked_propose)} proposals")
check(len(acked_create) > 0, "nothing was acknowledged before the kill")

reg = Registry(d)
try:
    stub = registry_pb2_grpc.RegistryStub(grpc.insecure_channel(reg.address))
    for def_id in acked_create:
        got = stub.GetDefinition(registry_pb2.GetDefinitionRequest(
            name=f"namespaces/default/definitions/{def_id}"), metadata=viewer)
        check(got.display_name == def_id, got)
        revisions = stub.ListRevisions(registry_pb2.ListRevisionsRequest(parent=got.name),
                                       metadata=viewer).revisions
        # No partial write: the definition and its revisions agree.
        check(got.latest_revision == len(revisions), (got, revisions))
    for def_id, number, content_hash in acked_propose:
        rev = stub.GetRevision(registry_pb2.GetRevisionRequest(
            name=f"namespaces/default/definitions/{def_id}/revisions/{number}"), metadata=viewer)
        check(rev.content_hash == content_hash and rev.snapshot.display_name == def_id, rev)
    events, token = [], ""
    while True:
        page = stub.ListAuditEvents(registry_pb2.ListAuditEventsRequest(
            parent="namespaces/default", page_size=100, page_token=token), metadata=viewer)
        events += page.events
        token = page.next_page_token
        if not token:
            break
    seqs = [e.sequence for e in events]
    check(seqs == sorted(seqs, reverse=True) and len(set(seqs)) == len(seqs), seqs[:20])
    # A retried create with the same request_id is answered from the record, not duplicated.
    if acked_create:
        i = int(acked_create[0].rsplit("-", 1)[1])
        p = definition_pb2.Definition(display_name=acked_create[0])
        c = p.buyer_persona.criteria.add(id="a")
        c.condition.attribute.field = "company.size"
        c.condition.attribute.op = definition_pb2.GE
        c.condition.attribute.value.number_value = i
        again = stub.CreateDefinition(registry_pb2.CreateDefinitionRequest(
            parent="namespaces/default", definition_id=acked_create[0], definition=p,
            request_id=f"create-{i}"), metadata=editor)
        check(again.name.endswith(acked_create[0]), again)
    print("registry_crash_test: ok")
finally:
    reg.stop()
