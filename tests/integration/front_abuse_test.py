"""Protocol abuse against the running gateway and scoring front ends, frames crafted with
Debian's python3-h2: during each attack a well-behaved caller (python3-grpcio, ScoreLead through
the gateway with a 2 s deadline) must keep being served, and the servers' memory must stay
bounded and come back. docs/frontdoor.md lists the limits these attacks meet."""
import gzip
import os
import resource
import socket
import struct
import sys
import threading
import time
import http.client

sys.path.insert(0, os.path.dirname(__file__))
from harness import (Gateway, Registry, Scoring, check, process_rss_mb,  # noqa: E402
                     publish_examples, python_stubs, workdir, write_keys)

python_stubs()
import grpc  # noqa: E402
import h2.config  # noqa: E402
import h2.connection  # noqa: E402
import h2.events  # noqa: E402
import h2.exceptions  # noqa: E402
import h2.settings  # noqa: E402
from google.protobuf import struct_pb2  # noqa: E402
from accord.scoring.v1 import scoring_pb2, scoring_pb2_grpc  # noqa: E402

d = workdir("front_abuse")
tokens = write_keys(d)
SCORE_LEAD = "/accord.scoring.v1.Scoring/ScoreLead"


def lead_request(i=0):
    attrs = struct_pb2.Struct()
    attrs.update({"contact": {"title": "VP Marketing", "email": f"p{i}@example.com"},
                  "company": {"employees": 300, "industry": "software", "country": "US"}})
    return scoring_pb2.ScoreLeadRequest(lead=scoring_pb2.Lead(id=f"lead-{i}", attributes=attrs))


def hpack_int(first, bits, value):
    """An HPACK integer with an N-bit prefix (RFC 7541, 5.1)."""
    top = (1 << bits) - 1
    if value < top:
        return bytes([first | value])
    out, value = bytearray([first | top]), value - top
    while value >= 128:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    return bytes(out + bytes([value]))


def hpack_literal(first, bits, name_index, name, value):
    """A literal field: indexed name (name_index > 0) or a new one; no Huffman."""
    out = hpack_int(first, bits, name_index)
    if name_index == 0:
        out += hpack_int(0, 7, len(name)) + name
    return out + hpack_int(0, 7, len(value)) + value


def frame(kind, flags, stream, payload):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + \
        struct.pack(">I", stream) + payload


def framed(payload, compressed=False):
    return struct.pack(">BI", 1 if compressed else 0, len(payload)) + payload


class GoodCaller:
    """ScoreLead through the gateway, one call at a time, in a thread, while an attack runs."""

    def __init__(self, address):
        self.stub = scoring_pb2_grpc.ScoringStub(grpc.insecure_channel(address))
        self.md = (("authorization", "Bearer " + tokens["service"]),)
        self.failures, self.latencies = [], []
        self.stop = threading.Event()
        self.stub.ScoreLead(lead_request(), metadata=self.md, timeout=5)  # connected

    def run(self):
        while not self.stop.is_set():
            start = time.monotonic()
            try:
                self.stub.ScoreLead(lead_request(), metadata=self.md, timeout=2)
                self.latencies.append(time.monotonic() - start)
            except grpc.RpcError as e:
                self.failures.append(f"{e.code()} {e.details()}")
            time.sleep(0.02)

    def during(self, what, attack):
        """Runs `attack()` while calling; checks every call was served in time."""
        self.failures, self.latencies = [], []
        self.stop.clear()
        t = threading.Thread(target=self.run)
        t.start()
        start = time.monotonic()
        try:
            result = attack()
            time.sleep(max(0.0, 1.0 - (time.monotonic() - start)))  # and right after it
        finally:
            self.stop.set()
            t.join()
        lat = sorted(self.latencies)
        p50 = lat[len(lat) // 2] * 1000 if lat else float("nan")
        print(f"{what}: good caller {len(lat)} calls, p50 {p50:.1f} ms, "
              f"{len(self.failures)} failures")
        check(not self.failures, f"{what}: the good caller was served ({len(lat)} calls, "
              f"p50 {p50:.1f} ms; failures {self.failures[:3]})")
        check(len(lat) >= 3, f"{what}: the good caller made calls ({len(lat)})")
        return result


class GoodHttpCaller(GoodCaller):
    """ScoreLead over HTTP/JSON through the gateway, one keep-alive connection, 2 s timeout."""

    def __init__(self, http_port):
        from google.protobuf import json_format
        self.port = http_port
        self.body = json_format.MessageToJson(lead_request())
        self.conn = None
        self.failures, self.latencies = [], []
        self.stop = threading.Event()
        self.call()

    def call(self):
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
        try:
            self.conn.request("POST", "/v1/scoring:scoreLead", body=self.body,
                              headers={"Authorization": "Bearer " + tokens["service"],
                                       "Content-Type": "application/json"})
            response = self.conn.getresponse()
            text = response.read()
            if response.status != 200:
                raise RuntimeError(f"HTTP {response.status} {text[:200]}")
        except Exception:
            self.conn.close()
            self.conn = None
            raise

    def run(self):
        while not self.stop.is_set():
            start = time.monotonic()
            try:
                self.call()
                self.latencies.append(time.monotonic() - start)
            except Exception as e:  # noqa: BLE001: every failure is the finding
                self.failures.append(repr(e))
            time.sleep(0.02)


def http_connect(port, source):
    """A TCP connection to the gateway's HTTP port from loopback address `source`."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((source, 0))
    s.connect(("127.0.0.1", port))
    return s


def closed_within(socks, seconds):
    """How many of `socks` the server closed within `seconds` (what they were sent is read)."""
    for s in socks:
        s.setblocking(False)
    open_ = set(range(len(socks)))
    until = time.monotonic() + seconds
    while open_ and time.monotonic() < until:
        for i in list(open_):
            try:
                if not socks[i].recv(65536):
                    open_.discard(i)
            except BlockingIOError:
                pass
            except OSError:
                open_.discard(i)
        time.sleep(0.1)
    return len(socks) - len(open_)


class Raw:
    """An HTTP/2 client connection whose frames the test crafts."""

    def __init__(self, port, settings=None):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.conn = h2.connection.H2Connection(
            config=h2.config.H2Configuration(client_side=True, header_encoding="utf-8",
                                             validate_outbound_headers=False,
                                             normalize_outbound_headers=False))
        self.conn.local_settings = h2.settings.Settings(client=True,
                                                        initial_values=settings or {})
        self.conn.initiate_connection()
        self.flush()

    def headers(self, token=None, path=SCORE_LEAD, extra=()):
        h = [(":method", "POST"), (":scheme", "http"), (":path", path),
             (":authority", "accord"), ("content-type", "application/grpc"), ("te", "trailers")]
        if token:
            h.append(("authorization", "Bearer " + token))
        return h + list(extra)

    def flush(self):
        data = self.conn.data_to_send()
        if data:
            self.send_raw(data)

    def send_raw(self, data):
        try:
            self.sock.sendall(data)
            return True
        except OSError:
            return False

    def read_until_closed(self, seconds):
        """Reads (without acting on frames) until the server closes or `seconds` pass."""
        self.sock.settimeout(0.2)
        until = time.monotonic() + seconds
        while time.monotonic() < until:
            try:
                if not self.sock.recv(65536):
                    return True
            except socket.timeout:
                continue
            except OSError:
                return True
        return False

    def close(self):
        self.sock.close()


registry = Registry(d)
publish_examples(registry.address, tokens)
scoring = Scoring(d, registry.address, tokens)
gateway = Gateway(d, registry.address, scoring.address)
gw_port, sc_port = gateway.port, scoring.port
good = GoodCaller(gateway.address)
try:
    # Rapid reset (CVE-2023-44487): streams opened and cancelled at once, as fast as possible.
    def rapid_reset():
        conns = [Raw(gw_port) for _ in range(4)]
        for c in conns:
            for _ in range(500):
                sid = c.conn.get_next_available_stream_id()
                c.conn.send_headers(sid, c.headers(tokens["sales_editor"]))
                c.conn.reset_stream(sid)
            c.flush()
        time.sleep(1)
        for c in conns:
            c.close()
    good.during("rapid reset", rapid_reset)
    check(gateway.proc.poll() is None, "rapid reset: the gateway runs")

    # SETTINGS and PING floods without reading the answers: the server stops at its queue.
    def floods():
        c = Raw(gw_port)
        pings = frame(6, 0, 0, b"pingpong") * 2000
        settings = frame(4, 0, 0, b"\x00\x03\x00\x00\x00\x64") * 2000
        for _ in range(50):  # 200,000 frames, none of whose answers is read
            if not c.send_raw(pings + settings):
                break
        time.sleep(1)
        c.close()
    before = process_rss_mb(gateway.proc.pid)
    good.during("PING and SETTINGS floods", floods)
    grew = process_rss_mb(gateway.proc.pid) - before
    check(grew < 32, f"PING and SETTINGS floods: gateway memory grew {grew:.0f} MB")

    # CONTINUATION flood: one header block that never ends.
    def continuation_flood():
        c = Raw(gw_port)
        sid = c.conn.get_next_available_stream_id()
        block = b"\x83\x86" + hpack_literal(0x40, 6, 4, b"", SCORE_LEAD.encode())
        c.send_raw(frame(1, 0, sid, block))  # HEADERS without END_HEADERS
        field = hpack_literal(0, 4, 0, b"x-cont", b"c" * 16000)  # 16 KB, not indexed
        continuation = frame(9, 0, sid, field)
        sent = 0
        for _ in range(4000):  # 64 MB of headers offered
            if not c.send_raw(continuation):
                break
            sent += 1
        closed = c.read_until_closed(3)
        c.close()
        return sent, closed
    before = process_rss_mb(gateway.proc.pid)
    sent, closed = good.during("CONTINUATION flood", continuation_flood)
    grew = process_rss_mb(gateway.proc.pid) - before
    print(f"CONTINUATION flood: closed after {sent} frames, gateway +{grew:.0f} MB")
    check(closed and sent < 4000, f"CONTINUATION flood: connection closed after {sent} frames")
    check(grew < 64, f"CONTINUATION flood: gateway memory grew {grew:.0f} MB")

    # HPACK bomb without credentials: 15 KB blocks that decode to 36 MB each.
    def hpack_bombs():
        # One 3 KB header added to the dynamic table, then named 12,000 times by one byte
        # (indexed field 62, the newest entry).
        block = b"\x83\x86" + hpack_literal(0, 4, 4, b"", SCORE_LEAD.encode()) + \
            hpack_literal(0x40, 6, 0, b"x-bomb", b"b" * 3000) + b"\xbe" * 12000
        closed = 0
        for _ in range(10):
            c = Raw(gw_port)
            frames = b""
            for sid in range(1, 40, 2):
                frames += frame(1, 0x5, sid, block)  # END_STREAM | END_HEADERS
            c.send_raw(frames)
            closed += 1 if c.read_until_closed(2) else 0
            c.close()
        return closed
    check(good.during("HPACK bombs", hpack_bombs) == 10, "HPACK bombs: each connection closed")

    # More streams than the 100 the server advertises.
    def too_many_streams():
        c = Raw(gw_port)
        for _ in range(150):
            c.conn.send_headers(c.conn.get_next_available_stream_id(),
                                c.headers(tokens["sales_editor"]))
        c.flush()
        c.sock.settimeout(2)
        refused = 0
        try:
            until = time.monotonic() + 2
            while time.monotonic() < until and refused == 0:
                data = c.sock.recv(65536)
                if not data:
                    break
                for e in c.conn.receive_data(data):
                    if isinstance(e, (h2.events.StreamReset, h2.events.ConnectionTerminated)):
                        refused += 1
        except (socket.timeout, OSError, h2.exceptions.ProtocolError):
            pass
        c.close()
        return refused
    check(good.during("more streams than advertised", too_many_streams) > 0,
          "streams past the limit are refused")

    # Zero-window slow readers through the gateway: 300 ScoreLeads whose responses are never
    # read, by another principal. The good caller is still admitted (the attacker holds at
    # most its share of the in-flight slots, and those until the calls' deadlines).
    def slow_readers():
        conns = [Raw(gw_port, {h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 0})
                 for _ in range(3)]
        body = framed(lead_request(7).SerializeToString())
        for c in conns:
            for _ in range(100):
                sid = c.conn.get_next_available_stream_id()
                c.conn.send_headers(sid, c.headers(tokens["sales_editor"]))
                c.conn.send_data(sid, body, end_stream=True)
            c.flush()
        time.sleep(3)
        return conns
    conns = good.during("zero-window slow readers", slow_readers)
    for c in conns:
        c.close()

    # Half-sent messages straight to scoring: 100 streams each send all but the last byte of a
    # 4 MiB message and stop. What scoring buffers is bounded, and returned once they end.
    def half_sent(port, streams, connections):
        """Each stream sends all but the last byte of a 4 MiB message, as far as the server's
        windows let it, and stops."""
        total = 4 * 1024 * 1024 + 5 - 1
        conns = []
        for _ in range(connections):
            c = Raw(port)
            sent = {}
            for _ in range(streams):
                sid = c.conn.get_next_available_stream_id()
                c.conn.send_headers(sid, c.headers(tokens["sales_editor"]))
                sent[sid] = 0
            c.flush()
            c.sock.settimeout(0.05)
            idle_until = time.monotonic() + 0.5
            while time.monotonic() < idle_until:
                progress = False
                for sid in sent:
                    while sent[sid] < total:
                        try:
                            window = c.conn.local_flow_control_window(sid)
                        except h2.exceptions.StreamClosedError:
                            break
                        n = min(window, c.conn.max_outbound_frame_size, total - sent[sid])
                        if n <= 0:
                            break
                        head = struct.pack(">BI", 0, 4 * 1024 * 1024) if sent[sid] == 0 else b""
                        c.conn.send_data(sid, (head + b"\x00" * n)[:n])
                        sent[sid] += n
                        progress = True
                c.flush()
                try:
                    data = c.sock.recv(1 << 20)
                    if not data:
                        break
                    c.conn.receive_data(data)
                    c.flush()
                except socket.timeout:
                    pass
                except h2.exceptions.ProtocolError:
                    break
                if progress:
                    idle_until = time.monotonic() + 0.5
            conns.append(c)
        return conns
    def half_sent_memory(what, server, port, connections, peak_limit, after_limit, was):
        before = process_rss_mb(server.proc.pid)
        conns = good.during(what, lambda: half_sent(port, 100, connections))
        time.sleep(0.5)
        peak = process_rss_mb(server.proc.pid) - before
        for c in conns:
            c.close()
        time.sleep(3)
        after = process_rss_mb(server.proc.pid) - before
        print(f"{what}: +{peak:.0f} MB at the peak, +{after:.0f} MB after")
        check(peak < peak_limit, f"{what}: grew {peak:.0f} MB (was {was})")
        check(after < after_limit, f"{what}: memory given back ({after:.0f} MB left)")

    half_sent_memory("half-sent messages to scoring", scoring, sc_port, 1, 120, 40, "410 MB")
    # The same through the gateway, three connections.
    half_sent_memory("half-sent messages via the gateway", gateway, gw_port, 3, 200, 60,
                     "1.2 GB")

    # Compressed ScoreLeads of 4 KB inflating to 4 MiB, straight to scoring: inflated on a
    # worker, the good caller's latency stays low.
    def gzip_bombs():
        bomb = gzip.compress(b"\x00" * (4 * 1024 * 1024 - 16))
        stop = time.monotonic() + 3
        c = Raw(sc_port)
        n = 0
        while time.monotonic() < stop:
            for _ in range(4 if c.conn.open_outbound_streams < 64 else 0):
                sid = c.conn.get_next_available_stream_id()
                c.conn.send_headers(sid, c.headers(tokens["sales_editor"],
                                                   extra=[("grpc-encoding", "gzip")]))
                c.conn.send_data(sid, framed(bomb, True), end_stream=True)
                n += 1
            c.flush()
            c.sock.settimeout(0.05)
            try:
                data = c.sock.recv(1 << 20)
                c.conn.receive_data(data)
                c.flush()
            except (socket.timeout, h2.exceptions.ProtocolError):
                pass
        c.close()
        return n
    good.during("gzip bombs", gzip_bombs)
    lat = sorted(good.latencies)
    check(lat[len(lat) // 2] < 0.1, f"gzip bombs: the good caller's p50 {lat[len(lat) // 2]:.3f} s")

    # Repeated credentials are refused everywhere: gRPC through the gateway and straight to
    # scoring, and HTTP/JSON.
    twice = (("authorization", "Bearer " + tokens["service"]),
             ("authorization", "Bearer " + tokens["service"]))
    for name, address in (("gateway", gateway.address), ("scoring", scoring.address)):
        try:
            scoring_pb2_grpc.ScoringStub(grpc.insecure_channel(address)).ScoreLead(
                lead_request(), metadata=twice, timeout=5)
            check(False, f"{name}: two authorization headers accepted")
        except grpc.RpcError as e:
            check(e.code() == grpc.StatusCode.UNAUTHENTICATED,
                  f"{name}: two authorization headers: {e.code()} {e.details()}")
    hc = http.client.HTTPConnection("127.0.0.1", gateway.http_port, timeout=5)
    hc.putrequest("GET", "/v1/namespaces/default/definitions")
    hc.putheader("Authorization", "Bearer " + tokens["service"])
    hc.putheader("Authorization", "Bearer " + tokens["service"])
    hc.endheaders()
    check(hc.getresponse().status == 401, "HTTP/JSON: two Authorization headers are 401")

    # Idle connections that never call: 500 held, then closed by the server (10 s), while the
    # good caller goes on.
    def idle():
        held = [Raw(gw_port) for _ in range(500)]
        time.sleep(1)
        return held
    held = good.during("500 idle connections", idle)
    time.sleep(11)
    closed = sum(1 for c in held if c.read_until_closed(0.2))
    for c in held:
        c.close()
    check(closed == 500, f"idle connections without a call are closed ({closed} of 500)")

    # ---- HTTP/1.1 on the HTTP/JSON port: a good caller over HTTP/JSON goes on being served.
    resource.setrlimit(resource.RLIMIT_NOFILE, (resource.getrlimit(resource.RLIMIT_NOFILE)[1],) * 2)
    good_http = GoodHttpCaller(gateway.http_port)

    # Slowloris: 1,000 connections (from another loopback address than the good caller's, so
    # that the per-address limit is not what is tried) trickle a header line every 2 s. Each is
    # answered 408 and closed 10 s after its first byte.
    last_first_byte = [0.0]

    def slowloris():
        socks = []
        for i in range(1000):
            s = http_connect(gateway.http_port, "127.0.0.2")
            s.sendall(b"POST /v1/scoring:scoreLead HTTP/1.1\r\nHost: accord\r\n")
            socks.append(s)
        last_first_byte[0] = time.monotonic()
        for round_ in range(2):
            time.sleep(2)
            for s in socks:
                try:
                    s.sendall(b"X-Slow-%d: 1\r\n" % round_)
                except OSError:
                    pass
        return socks
    before = process_rss_mb(gateway.proc.pid)
    socks = good_http.during("HTTP slowloris, 1,000 connections", slowloris)
    # Each is due 10 s after its first byte: all of them by 12 s after the last one's.
    closed = closed_within(socks, 12 - (time.monotonic() - last_first_byte[0]))
    for s in socks:
        s.close()
    grew = process_rss_mb(gateway.proc.pid) - before
    print(f"HTTP slowloris: {closed} of 1000 closed within 12 s of the last one's first byte; "
          f"gateway +{grew:.0f} MB")
    check(closed == 1000, f"HTTP slowloris: every trickling connection is closed ({closed})")

    # 1,000 keep-alive connections that made one request and stay idle: held without a thread
    # each (the good caller goes on), and at a bounded cost each.
    def idle_keep_alive():
        socks = []
        for i in range(1000):
            s = http_connect(gateway.http_port, "127.0.0.3")
            s.sendall(b"GET /openapi.json HTTP/1.1\r\nHost: accord\r\n\r\n")
            socks.append(s)
        for s in socks:
            s.settimeout(5)
            got = b""
            while b"\r\n\r\n" not in got:
                got += s.recv(65536)
            check(got.startswith(b"HTTP/1.1 200"), f"keep-alive client served: {got[:40]}")
        return socks
    before = process_rss_mb(gateway.proc.pid)
    socks = good_http.during("1,000 idle HTTP keep-alive connections", idle_keep_alive)
    grew = process_rss_mb(gateway.proc.pid) - before
    print(f"1,000 idle HTTP keep-alive connections: gateway +{grew:.1f} MB "
          f"({grew * 1024 / 1000:.0f} KB each, response buffers included)")
    check(grew < 64, f"1,000 idle keep-alive connections cost {grew:.0f} MB")
    for s in socks:
        s.close()

    # 200 open watch streams over HTTP: no thread each, the good caller goes on.
    def watches():
        socks = []
        for i in range(200):
            s = http_connect(gateway.http_port, "127.0.0.4")
            s.sendall(b"GET /v1/namespaces/default/definitions:watch HTTP/1.1\r\n"
                      b"Host: accord\r\nAuthorization: Bearer " + tokens["viewer"].encode() +
                      b"\r\n\r\n")
            socks.append(s)
        for s in socks:
            s.settimeout(5)
            got = b""
            while b"snapshot" not in got:
                got += s.recv(65536)
            check(got.startswith(b"HTTP/1.1 200"), f"watch opened: {got[:40]}")
        time.sleep(1)
        return socks
    socks = good_http.during("200 open HTTP watch streams", watches)
    for s in socks:
        s.close()
    check(gateway.proc.poll() is None and scoring.proc.poll() is None, "both servers still run")
finally:
    for s in (gateway, scoring, registry):
        s.stop()
print("front_abuse_test: ok")
