"""accord-scoring's HTTP/2 front end with Debian's python3-grpcio: the same bytes as the gRPC
library's path (the same process's gRPC server behind the front end, on its loopback port),
compressed requests, the errors the front end gives itself (credentials, roles, sizes, message counts), health and reflection relayed to
the gRPC server behind it, many connections and cancelled streams, and its RPC metrics."""
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(__file__))
from harness import (Registry, Scoring, check, error_details, health_status,  # noqa: E402
                     metric, publish_examples, python_stubs, workdir, write_keys)

python_stubs()
import grpc  # noqa: E402
from google.protobuf import struct_pb2, timestamp_pb2  # noqa: E402
from accord.scoring.v1 import scoring_pb2, scoring_pb2_grpc  # noqa: E402

d = workdir("scoring_front")
tokens = write_keys(d)
service = (("authorization", "Bearer " + tokens["service"]),)
AS_OF = timestamp_pb2.Timestamp(seconds=1793534400)  # 2026-11-01T12:00:00Z
PREFIX = "/accord.scoring.v1.Scoring/"


def lead(i, pad=""):
    attrs = struct_pb2.Struct()
    attrs.update({"contact": {"title": "VP Marketing Operations", "email": f"p{i}@example.com"},
                  "company": {"employees": 200 + i, "industry": "software", "country": "US",
                              "name": "Acme" + pad}})
    events = [scoring_pb2.Event(type="webinar_attended",
                                time=timestamp_pb2.Timestamp(seconds=AS_OF.seconds - 3600 * k))
              for k in range(1, 4)]
    return scoring_pb2.Lead(id=f"lead-{i}", attributes=attrs, events=events)


def expect_error(call, code, what, field=None):
    try:
        call()
    except grpc.RpcError as e:
        check(e.code() == code, f"{what}: {e.code()} {e.details()}")
        if field is not None:
            fields = [f for f, _ in error_details(e)[1]]
            check(field in fields, f"{what}: fields {fields}")
        return e
    raise AssertionError(f"{what}: accepted")


registry = Registry(d)
publish_examples(registry.address, tokens)
front = Scoring(d, registry.address, tokens)
try:
    check(front.listening["server_port"] != front.port,
          f"the h2 front end owns the public port: {front.listening}")
    channel = grpc.insecure_channel(front.address)
    stub = scoring_pb2_grpc.ScoringStub(channel)
    # The gRPC server behind the front end answers the same methods with the gRPC library.
    plain_stub = scoring_pb2_grpc.ScoringStub(
        grpc.insecure_channel(f"127.0.0.1:{front.listening['server_port']}"))

    # The same bytes from both paths: ScoreLead (both views), BatchScoreLeads, StreamScoreLeads.
    leads = [lead(i) for i in range(30)]
    for view in (scoring_pb2.FULL, scoring_pb2.BASIC):
        request = scoring_pb2.ScoreLeadRequest(lead=leads[0], as_of=AS_OF, view=view)
        a = stub.ScoreLead(request, metadata=service, timeout=5)
        b = plain_stub.ScoreLead(request, metadata=service, timeout=5)
        check(a.SerializeToString() == b.SerializeToString(), f"ScoreLead view {view} differs")
    check(len(a.reasons) == 0 and stub.ScoreLead(
        scoring_pb2.ScoreLeadRequest(lead=leads[0], as_of=AS_OF), metadata=service,
        timeout=5).reasons, "FULL carries reasons, BASIC none")
    batch = scoring_pb2.BatchScoreLeadsRequest(leads=leads, as_of=AS_OF)
    a = stub.BatchScoreLeads(batch, metadata=service, timeout=5)
    b = plain_stub.BatchScoreLeads(batch, metadata=service, timeout=5)
    check(len(a.scores) == 30 and a.SerializeToString() == b.SerializeToString(),
          "BatchScoreLeads differs between the front ends")

    def messages():
        for i in range(0, 30, 4):
            yield scoring_pb2.StreamScoreLeadsRequest(leads=leads[i:i + 4], as_of=AS_OF)
    a = [m.SerializeToString() for m in stub.StreamScoreLeads(messages(), metadata=service,
                                                             timeout=5)]
    b = [m.SerializeToString() for m in plain_stub.StreamScoreLeads(messages(),
                                                                   metadata=service, timeout=5)]
    check(len(a) == 8 and a == b, "StreamScoreLeads differs between the front ends")

    # Compressed requests (gzip, deflate) are inflated; the scores are the same.
    request = scoring_pb2.ScoreLeadRequest(lead=leads[1], as_of=AS_OF)
    expected = stub.ScoreLead(request, metadata=service, timeout=5).SerializeToString()
    for compression in (grpc.Compression.Gzip, grpc.Compression.Deflate):
        got = stub.ScoreLead(request, metadata=service, timeout=5, compression=compression)
        check(got.SerializeToString() == expected, f"{compression}: different scores")
        big = scoring_pb2.BatchScoreLeadsRequest(leads=[lead(i, "x" * 400) for i in range(100)],
                                                 as_of=AS_OF)
        check(len(stub.BatchScoreLeads(big, metadata=service, timeout=10,
                                       compression=compression).scores) == 100,
              f"{compression}: a compressed batch (scored on a worker)")

    # Errors the front end gives itself, with the gRPC path's codes and details.
    expect_error(lambda: stub.ScoreLead(request, timeout=5), grpc.StatusCode.UNAUTHENTICATED,
                 "no credentials")
    expect_error(lambda: stub.ScoreLead(request, timeout=5,
                                        metadata=(("authorization", "Bearer nope"),)),
                 grpc.StatusCode.UNAUTHENTICATED, "an unknown key")
    expect_error(lambda: stub.ScoreLead(request, timeout=5, metadata=(
        ("authorization", "Bearer " + tokens["viewer"]),)), grpc.StatusCode.PERMISSION_DENIED,
        "a viewer may not score")
    expect_error(lambda: stub.StreamScoreLeads(iter([]), timeout=5, metadata=(
        ("authorization", "Bearer " + tokens["viewer"]),)).__next__(),
        grpc.StatusCode.PERMISSION_DENIED, "a viewer may not stream")
    huge = scoring_pb2.BatchScoreLeadsRequest(leads=[lead(i, "y" * 50000) for i in range(100)])
    e = expect_error(lambda: stub.BatchScoreLeads(huge, metadata=service, timeout=10),
                     grpc.StatusCode.RESOURCE_EXHAUSTED, "a 5 MB message")
    check("exceeds the limit" in e.details(), e.details())
    e = expect_error(lambda: stub.BatchScoreLeads(scoring_pb2.BatchScoreLeadsRequest(
        leads=[lead(i) for i in range(1001)]), metadata=service, timeout=10),
        grpc.StatusCode.INVALID_ARGUMENT, "1001 leads", field="leads")
    bad = scoring_pb2.BatchScoreLeadsRequest(leads=leads[:3])
    bad.leads[2].events.add(type="")
    expect_error(lambda: stub.BatchScoreLeads(bad, metadata=service, timeout=5),
                 grpc.StatusCode.INVALID_ARGUMENT, "an event without a type",
                 field="leads[2].events[3].type")
    # A unary method called with two request messages, or none.
    twice = channel.stream_stream(PREFIX + "ScoreLead", request_serializer=lambda m: m,
                                  response_deserializer=lambda b: b)
    body = request.SerializeToString()
    for sent in ([body, body], []):
        e = expect_error(lambda: list(twice(iter(sent), metadata=service, timeout=5)),
                         grpc.StatusCode.INVALID_ARGUMENT, f"ScoreLead with {len(sent)} messages")
        check("one request message" in e.details(), e.details())
    # A stream that fails on its third message still delivered the first two.
    def failing():
        yield scoring_pb2.StreamScoreLeadsRequest(leads=leads[:2], as_of=AS_OF)
        yield scoring_pb2.StreamScoreLeadsRequest(leads=leads[2:4], as_of=AS_OF)
        yield bad
    got = []
    try:
        for m in stub.StreamScoreLeads(failing(), metadata=service, timeout=5):
            got.append(m)
        raise AssertionError("a bad stream message was accepted")
    except grpc.RpcError as e:
        check(e.code() == grpc.StatusCode.INVALID_ARGUMENT, e)
        check([f for f, _ in error_details(e)[1]] == ["messages[2].leads[2].events[3].type", "messages[2].leads[2].events[3].time"],
              error_details(e))
    check([len(m.scores) for m in got] == [2, 2], f"responses before the error: {got}")

    # Health and reflection go to the gRPC server behind the front end.
    check(health_status(channel, "accord.scoring.v1.Scoring") == 1, "health through the front")
    check(health_status(channel, "") == 1, "overall health through the front")
    reflection = channel.stream_stream(
        "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
        request_serializer=lambda b: b, response_deserializer=lambda b: b)
    answer = list(reflection(iter([b"\x3a\x00"]), timeout=5))  # list_services
    check(answer and b"accord.scoring.v1.Scoring" in answer[0], f"reflection: {answer}")
    # Other scoring methods are answered by the gRPC server, through the front end.
    persona = stub.MatchPersona(scoring_pb2.MatchPersonaRequest(lead=leads[0]), metadata=service,
                                timeout=5)
    check(persona.ByteSize() > 0, "MatchPersona through the front")

    # Many connections at once (dealt to every event loop), each with its own calls.
    results, errors = [], []

    def client(k):
        try:
            own = scoring_pb2_grpc.ScoringStub(grpc.insecure_channel(
                front.address, options=[("grpc.use_local_subchannel_pool", 1)]))
            for i in range(20):
                r = own.ScoreLead(scoring_pb2.ScoreLeadRequest(lead=leads[i], as_of=AS_OF),
                                  metadata=service, timeout=10)
                results.append((i, r.SerializeToString()))
            b = own.BatchScoreLeads(batch, metadata=service, timeout=10)
            results.append(("batch", b.SerializeToString()))
        except Exception as e:  # noqa: BLE001
            errors.append(repr(e))
    threads = [threading.Thread(target=client, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    check(not errors, errors)
    check(len(results) == 8 * 21, len(results))
    by_key = {}
    for key, value in results:
        by_key.setdefault(key, set()).add(value)
    check(all(len(v) == 1 for v in by_key.values()), "one lead, one result, on every loop")

    # A stream cancelled midway: the server goes on serving.
    call = stub.StreamScoreLeads(iter([scoring_pb2.StreamScoreLeadsRequest(
        leads=leads, as_of=AS_OF)] * 1000), metadata=service, timeout=30)
    check(len(next(call).scores) == 30, "first message of a long stream")
    call.cancel()
    check(stub.ScoreLead(request, metadata=service, timeout=5).SerializeToString() == expected,
          "serving after a cancelled stream")

    # The front end's calls are in the RPC metrics, as the gRPC server's are.
    count = metric(front.admin_port,
                   'accord_grpc_requests_total{code="OK",method="/accord.scoring.v1.Scoring/'
                   'ScoreLead"}')
    check(count >= 8 * 20, f"ScoreLead calls counted: {count}")
    denied = metric(front.admin_port, 'accord_grpc_requests_total{code="PERMISSION_DENIED"')
    check(denied >= 2, f"refused calls counted: {denied}")
    print("ok")
finally:
    for s in (front, registry):
        s.stop()
