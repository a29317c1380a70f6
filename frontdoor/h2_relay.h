#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

#include "common/call_auth.h"
#include "common/clock.h"
#include "common/rpc_metrics.h"
#include "common/tls.h"
#include "frontdoor/grpc_frame.h"

// A gRPC front end of our own: event loops on libnghttp2 (OpenSSL for TLS) that own a server's
// public gRPC address. Each call is routed by its owner (RelayRoutes): its frames are relayed
// to a backend connection without a gRPC call object on either side, or the front end answers
// it itself (LocalMethod), or it goes unchanged to the server's own gRPC server on loopback
// (health, reflection, every other method). The gateway relays to the registry and scoring;
// scoring answers its scoring methods itself. docs/gateway.md, "The gRPC front end", and
// docs/scoring.md, "The scoring front end", describe what it checks and why.
namespace accord {
namespace frontdoor {
class BufferBudget;
class EventLoop;
class ConnectionLimits;
class HttpHandler;
}  // namespace frontdoor
namespace h2relay {
struct HttpSide;
}  // namespace h2relay

using RelayHeader = std::pair<std::string, std::string>;

// How a local call that goes on answering after its request sends (a server stream fed by
// another thread, as a registry watch is): thread-safe, and harmless once the call has ended.
// What is written from any thread reaches the call's loop through its inbox; the loop writes
// every connection's new messages together, one write per connection per turn.
class LocalPush {
 public:
  virtual ~LocalPush() = default;
  // Sends whole response messages (AppendMessage). False once the call has ended. A caller
  // that leaves more than RelayOptions::max_push_backlog bytes unread is ended with
  // RESOURCE_EXHAUSTED (reason WATCHER_TOO_SLOW).
  virtual bool Write(std::string messages) = 0;
  // Ends the call with `status` after what was written.
  virtual void Finish(const absl::Status& status) = 0;
};

// One call answered by the front end: it receives the request's messages in order and writes
// its response messages. Runs on a loop's thread or a worker's (RelayOptions::workers), never
// on two at once, and must not block. It is destroyed on its loop's thread.
class LocalCall {
 public:
  virtual ~LocalCall() = default;
  // Offered before the first message: a call that keeps `push` (returns true) answers through
  // it and is not ended by the caller's half-close (OnHalfClose is not called); it ends by
  // Finish, the caller's cancel, its deadline or a drain.
  virtual bool Attach(std::shared_ptr<LocalPush> /*push*/) { return false; }
  // One request message (the payload, unframed). Appends whole response messages to `out`
  // (AppendMessage); a non-OK status ends the call with it.
  virtual absl::Status OnMessage(absl::string_view message, std::string& out) = 0;
  // The caller finished sending: the call's status (OK ends it successfully).
  virtual absl::Status OnHalfClose() = 0;
};

// Appends one gRPC message (5-byte prefix, then the payload `write` appends) to `out`.
using frontdoor::AppendMessage;

// A method the front end answers: a call per request, once admitted.
class LocalMethod {
 public:
  virtual ~LocalMethod() = default;
  virtual std::unique_ptr<LocalCall> Begin() = 0;
};

// Where one method goes.
struct RelayRoute {
  std::string path;              // "/accord.scoring.v1.Scoring/ScoreLead": RPC metrics
  int backend = -1;              // index into RelayOptions::backends, or
  LocalMethod* local = nullptr;  // answered by the front end
  bool unary = true;
};

// Held while an admitted call runs (in-flight slots); released when the call ends.
class RelayTicket {
 public:
  virtual ~RelayTicket() = default;
};

// The owner's policy: which calls go where, and who may make them.
class RelayRoutes {
 public:
  virtual ~RelayRoutes() = default;
  // The route of `path`; null: the loopback gRPC server answers, with the caller's headers as
  // they came (it authorizes those calls itself).
  virtual const RelayRoute* Find(absl::string_view path) const = 0;
  // Admits one routed call: UNAUTHENTICATED, PERMISSION_DENIED, RESOURCE_EXHAUSTED, ...
  // The ticket (may be null) is held until the call ends. Thread-safe.
  virtual absl::StatusOr<std::unique_ptr<RelayTicket>> Admit(const RelayRoute& route,
                                                             const CallerHeaders& caller) = 0;
  // The call's deadline from the caller's (InfiniteFuture: the caller set none).
  virtual absl::Time Deadline(const RelayRoute& /*route*/, absl::Time client_deadline) const {
    return client_deadline;
  }
  // The headers a backend call carries besides the protocol's (credential, trace context).
  virtual std::vector<RelayHeader> BackendHeaders(const CallerHeaders& /*caller*/) const {
    return {};
  }
  // Counts a call refused by the front end itself (no backend, limits), by reason.
  virtual void CountRejected(absl::string_view /*reason*/) {}
};

struct RelayBackend {
  std::string name;     // "registry": logs and errors
  std::string address;  // HOST:PORT, or the gRPC target dns:///HOST:PORT (every address, in turn)
};

struct RelayOptions {
  std::string listen;  // the public gRPC address, HOST:PORT (port 0: any)
  std::vector<RelayBackend> backends;
  TlsFiles server_tls;   // enabled: clients speak TLS (mTLS with a CA)
  TlsFiles backend_tls;  // with a CA: TLS to the backends (the loopback server: never)
  // Event loops, each on its own thread; accepted connections are dealt to them in turn.
  int threads = 1;
  // Threads for local calls' request messages of at least `worker_min_bytes`, so that one
  // connection's large messages (batches) use every core; 0: every message on its loop.
  int workers = 0;
  size_t worker_min_bytes = 16 * 1024;
  int max_concurrent_streams = 100;            // per client connection
  size_t max_header_bytes = 16 * 1024;         // a request's headers, names and values
  size_t max_message_bytes = 4 * 1024 * 1024;  // one gRPC message of a request
  size_t max_push_backlog = 8 * 1024 * 1024;   // a pushing call's bytes its caller has not read
  // Request bytes of a connection's local calls held before they make whole messages: past
  // it, only the connection's largest message gets window credit (the rest wait).
  size_t max_connection_buffer = 16 * 1024 * 1024;
  // The same over every connection of the process: a large message (past a stream's first
  // 64 KiB) reserves its whole length from it before it is credited further, and waits at its
  // window while the budget is taken (frontdoor/buffer_budget.h).
  size_t max_process_buffer = 256 * 1024 * 1024;
  // A call whose request stops inside a message, or whose response waits on a caller that
  // reads nothing (a zero window), this long is ended: its bytes and its slot go back.
  absl::Duration stall_timeout = absl::Seconds(10);
  // Client connections: in all and per source address; over either, a new one is closed.
  size_t max_connections = 20000;
  size_t max_connections_per_address = 1000;
  absl::Duration connect_timeout = absl::Seconds(5);
  absl::Duration keepalive_time = absl::Seconds(30);     // a backend connection quiet this long
  absl::Duration keepalive_timeout = absl::Seconds(10);  // is PINGed, and closed without answer
  absl::Duration handshake_timeout = absl::Seconds(10);  // client preface and settings
  // A request's header block (HEADERS and its CONTINUATIONs) must be whole within this: a
  // client that trickles one holds its connection (no other frame may come in between), so
  // the connection is closed.
  absl::Duration header_timeout = absl::Seconds(10);
  absl::Duration idle_timeout = absl::Minutes(5);         // a client connection with no calls
  absl::Duration first_call_timeout = absl::Seconds(10);  // one that has made no call yet
  // Every timeout and deadline is read from this clock (null: the system's); the loops still
  // look at it at least every 100 ms of real time.
  const Clock* clock = nullptr;
  // Streams that watch rather than call: when the relay drains they end at once with
  // UNAVAILABLE (their clients resume elsewhere) instead of holding the drain for its grace.
  std::vector<std::string> watch_paths = {"/grpc.health.v1.Health/Watch",
                                          "/accord.registry.v1.Registry/WatchDefinitions"};
};

class H2Relay final {
 public:
  // While a batch is open on a thread, what that thread's LocalPushes send wakes each event
  // loop once, when the outermost batch closes: a fan-out to many calls then costs each loop
  // one wake-up and each connection one write, instead of the loop waking (and writing) per
  // call.
  class PushBatch {
   public:
    PushBatch();
    ~PushBatch();
    PushBatch(const PushBatch&) = delete;
    PushBatch& operator=(const PushBatch&) = delete;
  };

  // Routed calls are recorded in `rpc_metrics` (null: not at all), as the gRPC server's
  // interceptor records the calls it serves.
  H2Relay(RelayRoutes& routes, RelayOptions options, RpcMetrics* rpc_metrics);
  ~H2Relay();
  H2Relay(const H2Relay&) = delete;
  H2Relay& operator=(const H2Relay&) = delete;

  // Binds the public address: UNAVAILABLE when it cannot.
  absl::Status Listen();
  int port() const;
  // Starts serving; what has no route goes to `internal` (HOST:PORT of the server's own gRPC
  // server).
  void Start(const std::string& internal);

  // A unary call the process makes itself (the gateway's HTTP/JSON front end) to `backend` (an
  // index into RelayOptions::backends), over the front end's own backend connections: no gRPC
  // client. `request` is the framed request message (AppendMessage); `headers` are sent
  // besides the protocol's (credentials, trace context); past `deadline` the call is cancelled.
  // `done` runs once, on a loop's thread (it must not block), with the call's status (from the
  // backend's grpc-status, grpc-message and grpc-status-details-bin) and the framed response
  // messages. Thread-safe; after Start.
  // Called from one of the relay's own loops (event_loops()), the call is made on that loop's
  // backend connections and starts at the end of the loop's turn, without a wake-up.
  // The call returned cancels it (the caller left): `done` then runs with CANCELLED and the
  // backend stream is reset; after the call is over it does nothing. Thread-safe, until the
  // relay shuts down.
  using CallDone = std::function<void(absl::Status, std::string)>;
  using CallCancel = std::function<void()>;
  CallCancel Call(int backend, std::string path, std::vector<RelayHeader> headers,
                  std::string request, absl::Time deadline, CallDone done);
  // A call's state on its loop (its loop's thread only).
  struct CallToken {
    void* stream = nullptr;  // the call's stream while it runs
    bool cancelled = false;  // cancelled before it started
  };
  // Requests on the front end's connections that are not gRPC (any content-type but
  // application/grpc...) go to `handler` as whole requests (body at most `max_body_bytes`), as
  // an HTTP/1.1 server gives them (frontdoor/http1_server.h), and its answers go back as HTTP/2
  // HEADERS and DATA: JSON clients speak HTTP/2 to the same port, h2 over TLS or h2c. Null:
  // such requests are answered 415. Thread-safe; the handler must stay alive until it is unset
  // or the relay has shut down.
  void ServeHttp(frontdoor::HttpHandler* handler, size_t max_body_bytes);
  // Serves a connection another server accepted and found to open with the HTTP/2 client
  // preface (h2c with prior knowledge on an HTTP/1.1 port); `read` is what it read of it. It
  // counts in this relay's connection limits (over them, it is closed). Thread-safe, after
  // Start.
  void Serve(int fd, std::string peer, std::string read);
  // The relay's event loops, running after Start until Shutdown: another server may serve its
  // connections on them (Http1ServerOptions::loops) and must stop before the relay does.
  std::vector<frontdoor::EventLoop*> event_loops() const;
  // Stops accepting, tells clients to go away (GOAWAY), ends watch streams (`watch_paths`),
  // lets running calls finish for up to `grace`, then closes every connection. With no call
  // running it returns at once.
  void Shutdown(absl::Duration grace);

  class Loop;
  class Workers;

 private:
  std::unique_ptr<frontdoor::ConnectionLimits> limits_;  // outlives the loops' connections
  std::unique_ptr<frontdoor::BufferBudget> budget_;      // outlives the loops' calls
  std::unique_ptr<h2relay::HttpSide> http_;              // ServeHttp's, read by the loops
  std::unique_ptr<Workers> workers_;  // ended before the loops: results go to live loops
  std::vector<std::unique_ptr<Loop>> loops_;
  std::atomic<size_t> next_call_loop_{0};
  // The loop a call or connection handed in from this thread goes to: this thread's own, or
  // the next in turn.
  Loop* PickLoop();
};

}  // namespace accord
