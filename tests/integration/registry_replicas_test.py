"""Several accord-registry replicas on one real PostgreSQL database (started by the ctest
fixture, tests/testing/pg_server.sh): migrations once when replicas start together, a write
through one replica seen by a watcher on another, one winner among 50 same-etag updates,
and kill -9 of a replica plus a crash of the database during concurrent writes."""
import os
import re
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import (Registry, check, publish_persona, python_stubs, workdir,  # noqa: E402
                     write_keys)

python_stubs()
import grpc  # noqa: E402
from accord.registry.v1 import definition_pb2, registry_pb2, registry_pb2_grpc  # noqa: E402

PG_DIR = os.path.dirname(os.environ["ACCORD_PG_DSN_FILE"])
server_dsn = open(os.environ["ACCORD_PG_DSN_FILE"]).read().strip()
port = re.search(r"port=(\d+)", server_dsn).group(1)
DB = "replicas"
subprocess.run(["psql", server_dsn, "-qc", f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)"],
               check=True)
subprocess.run(["psql", server_dsn, "-qc", f"CREATE DATABASE {DB}"], check=True)
store = f"--store=postgresql://accord@127.0.0.1:{port}/{DB}"

d = workdir("replicas")
tokens = write_keys(d)


def md(role):
    return (("authorization", "Bearer " + tokens[role]),)


# Two replicas starting together on an empty database: the schema is migrated once.
started = []
threads = [threading.Thread(target=lambda: started.append(
    Registry(d, ["--poll_interval=5"], store=store))) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
check(len(started) == 2, "two replicas started together")
a, b = started
# One replica applies every schema version (one log line each); the other applies none.
applied = [open(r.log_path).read().count('"applied migration"') for r in (a, b)]
check(sorted(applied)[0] == 0 and sorted(applied)[1] >= 1,
      f"the migrations ran once, by one replica ({applied})")
stub_a = registry_pb2_grpc.RegistryStub(grpc.insecure_channel(a.address))
stub_b = registry_pb2_grpc.RegistryStub(grpc.insecure_channel(b.address))


def publish(stub, def_id, summary, timeout=10):
    return publish_persona(stub, tokens, def_id, summary, timeout=timeout)


# A write through A reaches a watcher on B within 2 s (LISTEN/NOTIFY wakes B's hub; B polls
# only every 5 s here, so the wake-up is what is measured).
seen = {}
ready = threading.Event()


def watch_b():
    stream = stub_b.WatchDefinitions(registry_pb2.WatchDefinitionsRequest(
        parent="namespaces/default"), metadata=md("service"))
    for m in stream:
        if m.HasField("snapshot_end"):
            ready.set()
        if m.HasField("changes"):
            for ev in m.changes.events:
                seen.setdefault(ev.definition, time.time())
            if "namespaces/default/definitions/from-a" in seen:
                stream.cancel()
                return


watcher = threading.Thread(target=watch_b, daemon=True)
watcher.start()
check(ready.wait(10), "watcher on B has its snapshot")
start = time.time()
publish(stub_a, "from-a", "written through A")
watcher.join(5)
check("namespaces/default/definitions/from-a" in seen and
      seen["namespaces/default/definitions/from-a"] - start < 2.0,
      f"B's watcher saw A's publish within 2 s ({seen})")

# 50 concurrent updates with the same etag through both replicas: exactly one wins.
current = stub_a.GetDefinition(registry_pb2.GetDefinitionRequest(
    name="namespaces/default/definitions/from-a"), metadata=md("viewer"))
results = []


def update(i):
    d2 = definition_pb2.Definition()
    d2.CopyFrom(current)
    d2.display_name = f"update {i}"
    try:
        (stub_a if i % 2 else stub_b).UpdateDefinition(
            registry_pb2.UpdateDefinitionRequest(definition=d2), metadata=md("marketing_editor"))
        results.append("OK")
    except grpc.RpcError as e:
        results.append(e.code().name)


threads = [threading.Thread(target=update, args=(i,)) for i in range(50)]
for t in threads:
    t.start()
for t in threads:
    t.join()
check(results.count("OK") == 1 and results.count("ABORTED") == 49,
      f"same etag through two replicas: one winner ({sorted(set(results))}, "
      f"{results.count('OK')} OK)")

# Where a watcher stops before the crashes.
first = next(stub_b.WatchDefinitions(registry_pb2.WatchDefinitionsRequest(
    parent="namespaces/default"), metadata=md("service"), timeout=10))
resume_sequence, resume_history = first.sequence, first.history_id

# Crashes during concurrent writes: kill -9 of replica A, then an immediate stop (crash) and
# restart of PostgreSQL. Every acknowledged write must survive.
acked = []
lock = threading.Lock()
stop = threading.Event()


def writer(w):
    i = 0
    while not stop.is_set():
        i += 1
        def_id = f"crash-{w}-{i}"
        stub = stub_a if w % 2 else stub_b
        try:
            publish(stub, def_id, def_id, timeout=5)  # acknowledged = the publish returned
            with lock:
                acked.append(def_id)
        except grpc.RpcError:
            time.sleep(0.05)


workers = [threading.Thread(target=writer, args=(w,)) for w in range(8)]
for t in workers:
    t.start()
time.sleep(1.5)
a.proc.send_signal(signal.SIGKILL)
a.proc.wait()
time.sleep(1.0)
subprocess.run([os.path.join(os.path.dirname(__file__), "..", "testing", "pg_server.sh"),
                "restart", PG_DIR], check=True)
time.sleep(2.0)
stop.set()
for t in workers:
    t.join()
print(f"{len(acked)} publishes acknowledged around the crashes")
check(len(acked) > 5, f"publishes were acknowledged around the crashes ({len(acked)})")

# B reconnects to the restarted database; a new replica reads the same state.
c = Registry(d, store=store)
stub_c = registry_pb2_grpc.RegistryStub(grpc.insecure_channel(c.address))
names = set()
token = ""
while True:
    page = stub_c.ListDefinitions(registry_pb2.ListDefinitionsRequest(
        parent="namespaces/default", page_size=500, page_token=token), metadata=md("viewer"))
    names.update(x.name.rsplit("/", 1)[1] for x in page.definitions)
    token = page.next_page_token
    if not token:
        break
lost = [x for x in acked if x not in names]
check(not lost, f"every acknowledged write survived ({len(lost)} lost of {len(acked)})")
sequences = []
for x in acked[:50]:
    got = stub_c.GetDefinition(registry_pb2.GetDefinitionRequest(
        name=f"namespaces/default/definitions/{x}"), metadata=md("viewer"))
    sequences.append(got.sequence)
check(len(set(sequences)) == len(sequences), "sequences are unique")
deadline = time.time() + 15
ok = False
while time.time() < deadline and not ok:
    try:
        stub_b.GetDefinition(registry_pb2.GetDefinitionRequest(
            name=f"namespaces/default/definitions/{acked[-1]}"), metadata=md("viewer"), timeout=3)
        ok = True
    except grpc.RpcError:
        time.sleep(0.5)
check(ok, "replica B serves again after the database restart")

# A watcher that stopped before the crashes resumes on C: every change since, once, in order.
stream = stub_c.WatchDefinitions(registry_pb2.WatchDefinitionsRequest(
    parent="namespaces/default", start_after_sequence=resume_sequence, history_id=resume_history,
    progress_interval_seconds=1), metadata=md("service"), timeout=20)
sequences, created = [], set()
for m in stream:
    if m.HasField("snapshot_begin"):
        check(False, "a resume must not fall back to a snapshot")
    if m.HasField("changes"):
        for ev in m.changes.events:
            sequences.append(ev.sequence)
            created.add(ev.definition.rsplit("/", 1)[1])
    if m.HasField("progress") and all(x in created for x in acked):
        break
stream.cancel()
check(sequences == sorted(sequences) and len(set(sequences)) == len(sequences),
      "resumed events are in order, without duplicates")
check(all(x in created for x in acked), "the resumed watch has every acknowledged write")
for r in (b, c):
    r.stop()
print("PASS")
