#pragma once

// The inside of the HTTP/2 relay (h2_relay.h), shared by its source files and by nothing else:
//   h2_relay.cc          the event loop, client streams relayed to backends, the sweep, drain
//   h2_connection.cc     a socket with an nghttp2 session (client or backend side), TLS
//   h2_local_calls.cc    calls the front end answers itself (LocalMethod), their workers
//   h2_backends.cc       the backend pool (DNS, connections, failures) and H2Relay::Call
// All of it runs on a loop's thread unless a comment says otherwise.

#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include <openssl/ssl.h>

#include "common/clock.h"
#include "common/rpc_metrics.h"
#include "frontdoor/acceptor.h"
#include "frontdoor/buffer_budget.h"
#include "frontdoor/connection_limits.h"
#include "frontdoor/event_loop.h"
#include "frontdoor/grpc_frame.h"
#include "frontdoor/h2_relay.h"
#include "frontdoor/http_exchange.h"
#include "frontdoor/memory.h"
#include "frontdoor/relay_tls.h"
#include <nghttp2/nghttp2.h>

namespace accord {
namespace h2relay {

using Header = RelayHeader;

// Per stream: what a client may send on a call before the front end credits it (bounding what
// a call that stops inside a message holds: 100 streams of a connection hold 25 MiB), and what
// a backend may send on a call before the caller takes it.
constexpr int32_t kRequestStreamWindow = 256 << 10;
constexpr int32_t kResponseStreamWindow = 1 << 20;
constexpr int32_t kConnectionWindow = 16 << 20;  // per connection
constexpr size_t kWriteChunk = 64 * 1024;
// A local call's response this far behind is not added to, and its request's bytes are not
// credited: the caller's flow-control window stops a caller that does not read.
constexpr size_t kResponseBacklog = 1 << 20;
// A local call's request buffer this small is credited without counting the connection's.
constexpr size_t kSmallRequest = 64 * 1024;
// A local call's response is reserved this many times its request's size (scores with every
// reason are about twice the lead), so that it is rarely copied as it grows.
constexpr size_t kResponseReserve = 3;
// A request header block is decoded up to this many times the header limit; a client
// connection that sends more than kMaxOversizedBlocks blocks past that is closed.
constexpr size_t kHeaderBlockCutoff = 2;
constexpr int kMaxOversizedBlocks = 8;
// A backend connection that fails is logged at most this often per backend and loop.
constexpr absl::Duration kFailureLogInterval = absl::Seconds(5);

// Bytes on their way from one connection to the other, in arrival order.
struct Pipe {
  std::string data;
  size_t offset = 0;
  bool eof = false;
  size_t size() const { return data.size() - offset; }
  // Appends the next `length` bytes to `out`.
  void MoveTo(std::string& out, size_t length) {
    out.append(data, offset, length);
    offset += length;
    if (offset == data.size()) {
      data.clear();
      offset = 0;
    }
  }
};

class Conn;
class ClientConn;
class Upstream;
class H2Exchange;

// Where the loops hand requests that are not gRPC (H2Relay::ServeHttp).
struct HttpSide {
  std::atomic<frontdoor::HttpHandler*> handler{nullptr};
  std::atomic<size_t> max_body_bytes{1 << 20};
};

// One call: its stream on a client connection and, once admitted, on a backend connection or
// answered by a local call.
struct Stream {
  explicit Stream(size_t max_message_bytes) : framing(max_message_bytes) {}
  ClientConn* client = nullptr;
  int32_t client_id = 0;
  Upstream* up = nullptr;
  int32_t up_id = -1;
  int target = -1;
  const RelayRoute* route = nullptr;
  std::unique_ptr<RelayTicket> ticket;
  uint64_t serial = 0;               // unique in its loop: a worker's result finds its call
  std::shared_ptr<LocalCall> local;  // while a local call runs (then up_open is true)
  std::string encoding;              // a local call's grpc-encoding (compressed messages)
  bool local_busy = false;           // a message of the local call is on a worker
  bool pushes = false;               // the local call answers through a LocalPush
  size_t local_messages = 0;         // request messages a local call was given
  size_t local_owed = 0;             // request bytes a local call received and has not credited yet
  std::vector<Header> headers;       // being received: the request's, then the response's
  size_t header_bytes = 0;
  Pipe request;
  Pipe response;
  std::vector<Header> trailers;
  bool client_open = true;
  bool up_open = false;
  bool responded = false;  // the client's response headers are submitted
  bool recorded = false;
  absl::Time started;
  absl::Time deadline = absl::InfiniteFuture();
  // The last time request bytes arrived, and response bytes went out (or the response had none
  // waiting): a call that makes no progress for RelayOptions::stall_timeout is ended.
  absl::Time request_progress;
  absl::Time response_progress;
  bool reset = false;          // RST_STREAM sent to the client
  std::string traceparent;     // sent to the backend: its trace id goes in the edge log
  bool watch = false;          // a watch stream (RelayOptions::watch_paths): ended by a drain
  bool headers_whole = false;  // its request's header block is complete (OnRequest)
  absl::Time opened;           // its HEADERS frame began
  // The process's budget held for the local call's request message under way (MayCredit).
  frontdoor::BufferReservation reserved;
  bool budget_held = false;  // its message waits for the process's budget
  // Set for a call the process makes itself (H2Relay::Call): it has no client, and its
  // response is gathered and handed to this when the call ends.
  H2Relay::CallDone internal;
  std::shared_ptr<H2Relay::CallToken> token;  // how the caller cancels it
  // The request's gRPC framing, checked as it passes.
  frontdoor::MessageScanner framing;
  // An HTTP request that is not gRPC (H2Relay::ServeHttp, h2_http_exchange.cc): its head while
  // its body arrives (in `request`), then the exchange its handler answers through.
  bool http = false;
  bool http_head_only = false;  // a HEAD request: the response's body is not sent
  std::unique_ptr<frontdoor::Http1Request> http_request;
  std::shared_ptr<H2Exchange> exchange;
};

// grpc-timeout ("100m", "5S"): the caller's deadline, InfiniteFuture when absent or malformed.
absl::Time DeadlineFromTimeout(absl::string_view value, absl::Time now);
// The grpc-timeout value for `left` (at most 8 digits, the finest unit that fits).
std::string TimeoutValue(absl::Duration left);
// grpc-message is percent-encoded (the gRPC HTTP/2 protocol).
std::string PercentEncode(absl::string_view message);
// A backend's status from its trailers (or trailers-only headers): grpc-status, grpc-message
// (percent-decoded) and grpc-status-details-bin (base64).
absl::Status StatusOfTrailers(const std::vector<Header>& trailers);
// A compressed request message (grpc-encoding gzip or deflate) inflated into `out`;
// RESOURCE_EXHAUSTED when it would exceed `limit` bytes, INVALID_ARGUMENT when it is corrupt.
absl::Status Inflate(absl::string_view in, absl::string_view encoding, size_t limit,
                     std::string* out);
// Headers as nghttp2 takes them (pointing into `headers`): values new with every call are
// not indexed.
std::vector<nghttp2_nv> NameValues(const std::vector<Header>& headers);
// A stream's user data on `session`, or null.
Stream* StreamOf(nghttp2_session* session, int32_t id);
// nghttp2's data source callbacks: a stream's request bytes to its backend connection, its
// response bytes to its client connection (H2Relay::Loop::ReadRequest, ReadResponse).
ssize_t ReadRequestCallback(nghttp2_session*, int32_t, uint8_t*, size_t length, uint32_t* flags,
                            nghttp2_data_source* source, void* user);
ssize_t ReadResponseCallback(nghttp2_session*, int32_t, uint8_t*, size_t length, uint32_t* flags,
                             nghttp2_data_source* source, void* user);

}  // namespace h2relay

// Threads that answer local calls' large messages, in the order posted.
class H2Relay::Workers {
 public:
  explicit Workers(int threads) {
    for (int i = 0; i < threads; ++i) {
      threads_.emplace_back([this] { Work(); });
    }
  }
  // Runs what was posted, then ends the threads.
  ~Workers() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    for (std::thread& t : threads_) {
      t.join();
    }
  }
  void Post(std::function<void()> job) {
    {
      std::lock_guard lock(mu_);
      jobs_.push_back(std::move(job));
    }
    cv_.notify_one();
  }

 private:
  void Work() {
    std::unique_lock lock(mu_);
    for (;;) {
      cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) {
        return;
      }
      std::function<void()> job = std::move(jobs_.front());
      jobs_.pop_front();
      lock.unlock();
      job();
      lock.lock();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;  // guarded by mu_
  bool stopping_ = false;                   // guarded by mu_
  std::vector<std::thread> threads_;
};

// An event loop: one thread, every connection non-blocking, nghttp2 sessions fed from and
// drained to the sockets. All state below is touched by that thread only, except the inbox.
class H2Relay::Loop {
 public:
  using Header = h2relay::Header;
  using Stream = h2relay::Stream;
  using Pipe = h2relay::Pipe;
  using Conn = h2relay::Conn;
  using ClientConn = h2relay::ClientConn;
  using Upstream = h2relay::Upstream;
  // A call the process makes (H2Relay::Call), handed to this loop from any thread.
  struct InternalCall {
    int backend;
    std::string path;
    std::vector<Header> headers;
    std::string request;
    absl::Time deadline;
    H2Relay::CallDone done;
    std::shared_ptr<H2Relay::CallToken> token;
  };
  void GiveCall(InternalCall call);
  // Hands an accepted connection to this loop (from any thread); `read`: bytes another server
  // read of it already (H2Relay::Serve).
  void Give(int fd, std::string peer, std::string read = {});
  // On the loop: the call of `token` ends CANCELLED, its backend stream reset (before it
  // starts: it never starts).
  void CancelCall(const std::shared_ptr<H2Relay::CallToken>& token);
  frontdoor::EventLoop& events() { return events_; }
  Loop(RelayRoutes& routes, const RelayOptions& options, RpcMetrics* rpc_metrics, Workers* workers,
       frontdoor::ConnectionLimits* limits, frontdoor::BufferBudget* budget,
       const h2relay::HttpSide* http);
  ~Loop();
  // The first loop binds the public address; every loop opens its epoll (`listen`: false).
  absl::Status Listen(bool listen);
  void Start(const std::string& internal, std::vector<Loop*> loops);
  void Stop(absl::Duration grace);
  void Join();
  int port() const { return port_; }

  // Called by the connections' nghttp2 callbacks.
  void OnRequest(Stream* s, bool end_stream);
  // The protocol's headers of `s`'s backend call: to its target, with its deadline.
  std::vector<Header> BackendRequestHeaders(const Stream* s, absl::string_view path,
                                            absl::string_view content_type) const;
  // Opens `s`'s stream on a connection to its target; UNAVAILABLE when there is none.
  absl::Status OpenUpstream(Stream* s, const std::vector<Header>& headers);
  void OnRequestData(Stream* s, const uint8_t* data, size_t size);
  void OnClientStreamClosed(Stream* s, uint32_t error_code = 0);
  void OnResponseHeaders(Stream* s, bool end_stream);
  void OnResponseData(Stream* s, const uint8_t* data, size_t size);
  void OnResponseEnd(Stream* s);
  void OnUpstreamStreamClosed(Stream* s, uint32_t error_code);
  ssize_t ReadRequest(Stream* s, size_t length, uint32_t* flags);
  // Moves `pipe`'s bytes into a DATA frame and gives the `source` stream window credit for
  // them; the frame ends the stream when the pipe is empty and `end`.
  ssize_t Forward(Pipe& pipe, Conn* source, int32_t source_id, bool source_open, bool end,
                  size_t length, uint32_t* flags);
  ssize_t ReadResponse(Stream* s, size_t length, uint32_t* flags);
  Stream* NewStream(ClientConn* client, int32_t id);
  void MarkDirty(Conn* c);
  const RelayOptions& options() const { return options_; }
  absl::Time Now() const { return clock_->Now(); }

 private:
  // The event loop's hooks: work from other threads (connections given, workers' results,
  // resolved addresses); a connection's events; the end of each turn (settling, the sweep,
  // the drain).
  void OnWake();
  void StartCall(InternalCall call);
  // Ends a call the process made with `status` (the first end only).
  void FinishCall(Stream* s, const absl::Status& status);
  void OnEvents(Conn* c, uint32_t events);
  void EndTurn();
  // After the drain: every connection closed, on the loop's thread.
  void Finish();
  // Takes over an accepted connection from `peer` (on this loop's thread).
  // `read`: bytes another server read of it already (H2Relay::Serve).
  void Adopt(int fd, std::string peer, std::string read = {});
  // Listens again after Accept paused (out of file descriptors).
  void Sweep(absl::Time now);
  // Ends a call on both sides: RST_STREAM to its backend, `status` in trailers to its client.
  void Cancel(Stream* s, const absl::Status& status);
  void FlushDirty();
  void CloseDead();
  // Closes and forgets the connections `which` picks.
  void CloseWhere(const std::function<bool(const Conn&)>& which);
  Upstream* Pick(int target);
  void Connect(int target, const sockaddr_storage& address);
  void RequestResolve();
  void ResolveLoop();
  void ApplyResolved();
  // Starts a local call: its response headers go out with its first message.
  void BeginLocal(Stream* s);
  // Gives a local call the whole request messages it has, while its response is not backed up.
  void RunLocal(Stream* s);
  // Runs the local calls whose responses drained and flushes every connection, until quiet.
  void Settle();
  // Whether a local call's request bytes may be credited to its client now (its buffer is
  // within the connection's budget).
  bool MayCredit(Stream* s);
  // Drops a local call's request message of `length` bytes from the request pipe.
  void TakeRequest(Stream* s, size_t length);
  // Sends what a local call wrote: the response headers with its first message.
  void Respond(Stream* s);
  // A worker's answer to one message of a local call.
  struct LocalResult {
    Stream* stream;
    uint64_t serial;
    std::shared_ptr<LocalCall> call;
    absl::Status status;
    std::string response;
    bool pushed = false;  // from the call's LocalPush, not an answer to a request message
    bool end = false;     // LocalPush::Finish: the call ends with `status`
  };
  class Push;
  // Hands a worker's result (or a push) to this loop (from another thread). A push on a thread
  // with an open PushBatch wakes the loop when the batch closes.
  void Deliver(LocalResult result);
  // Wakes the loop for its results.
  void WakeForResults();
  // Applies what a call's LocalPush sent.
  void ApplyPush(Stream* s, LocalResult& r);
  void ApplyResults(std::vector<LocalResult> results);
  void Reject(Stream* s, const absl::Status& status);
  void EndResponse(Stream* s, const absl::Status& status);

 public:
  // HTTP requests that are not gRPC (h2_http_exchange.cc). Their head came (OnRequest): the
  // body is gathered, then the whole request handed to the HttpSide's handler.
  void BeginHttp(Stream* s);
  void OnHttpData(Stream* s, const uint8_t* data, size_t size);
  // The handler's answer: the head (and the whole body when `end`), more of a streamed body,
  // its end.
  void HttpHead(Stream* s, int status, frontdoor::HttpHeaders headers, std::string body, bool end);
  void HttpChunk(Stream* s, std::string chunk);
  void HttpEnd(Stream* s);
  // The server answers the request itself (too large, too slow, busy).
  void RefuseHttp(Stream* s, int status, absl::string_view message);
  // A drain: the handlers of streamed HTTP responses are told to end them.
  void InterruptHttpStreams();

 private:
  void DispatchHttp(Stream* s);
  // The stream is over: its exchange is told (a response cut short cancels the handler).
  void EndHttp(Stream* s);
  void FailUpstream(Upstream* up, const std::string& why);
  void CloseClient(ClientConn* c);
  void MaybeFree(Stream* s);
  // Records a routed call's end in the RPC metrics (once): the status from `headers`
  // (grpc-status, grpc-message), or `code` and `message`.
  void Record(Stream* s, const std::vector<Header>& headers);
  void Record(Stream* s, int code, absl::string_view message);
  const std::string& TargetName(int target) const;

  void Interest(Conn* c, uint32_t events);

  RelayRoutes& routes_;
  RelayOptions options_;
  const Clock* clock_;
  const int internal_;  // the target of the loopback gRPC server, after the backends
  std::unique_ptr<RelayTls> server_tls_;  // null: plaintext (h2c) clients
  std::unique_ptr<RelayTls> client_tls_;  // null: plaintext backends
  absl::Time tls_checked_ = absl::InfinitePast();
  std::vector<std::string> target_address_;
  std::vector<std::string> target_name_;
  RpcMetrics* rpc_metrics_;      // null: not recorded
  frontdoor::EventLoop events_;  // its thread, epoll and wake-ups
  int listen_fd_ = -1;
  std::unique_ptr<frontdoor::Acceptor> acceptor_;  // the first loop's
  int port_ = 0;
  std::vector<Loop*> loops_;  // every loop, this one included; the first accepts
  size_t next_loop_ = 0;
  // What pushes reach this loop through; `loop` is cleared when the loop goes.
  struct PushInbox {
    explicit PushInbox(Loop* l) : loop(l) {}
    std::mutex mu;
    Loop* loop;  // guarded by mu
  };
  std::shared_ptr<PushInbox> push_inbox_ = std::make_shared<PushInbox>(this);
  // The loops this thread's open PushBatch will wake.
  struct Batch {
    int depth = 0;
    std::vector<std::shared_ptr<PushInbox>> loops;
  };
  static Batch& ThreadBatch() {
    thread_local Batch batch;
    return batch;
  }
  friend class H2Relay::PushBatch;
  friend class h2relay::H2Exchange;
  std::mutex inbox_mu_;
  // Guarded by inbox_mu_: connections (and their peers) given by the first loop.
  struct Given {
    int fd;
    std::string peer;
    std::string read;
  };
  std::vector<Given> inbox_;
  std::vector<LocalResult> results_;  // guarded by inbox_mu_: from the workers
  std::vector<InternalCall> calls_;   // guarded by inbox_mu_: H2Relay::Call
  Workers* workers_;                  // null: local calls run on the loop only
  uint64_t next_serial_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int64_t> grace_ns_{0};
  absl::Time last_sweep_;
  bool draining_ = false;
  absl::Time drain_until_ = absl::InfiniteFuture();
  std::unordered_map<Conn*, std::unique_ptr<Conn>> conns_;
  std::vector<std::vector<Upstream*>> upstreams_;
  std::vector<std::vector<sockaddr_storage>> addresses_;  // each target's last resolution
  std::thread resolver_;
  std::mutex resolve_mu_;
  std::condition_variable resolve_cv_;
  bool resolve_now_ = false;                             // guarded by resolve_mu_
  bool resolver_stopping_ = false;                       // guarded by resolve_mu_
  std::vector<std::vector<sockaddr_storage>> resolved_;  // guarded by resolve_mu_
  std::vector<size_t> next_;
  std::vector<absl::Time> failure_logged_;  // per target: the last failed connection logged
  std::unordered_map<Stream*, std::unique_ptr<Stream>> streams_;
  std::vector<Conn*> dirty_;
  std::vector<Stream*> local_pending_;   // local calls whose response drained: run them again
  absl::Time now_;                       // this turn of the loop's
  frontdoor::ConnectionLimits* limits_;  // the relay's, over every loop
  frontdoor::BufferBudget* budget_;      // the relay's, over every loop
  const h2relay::HttpSide* http_;        // the relay's
  // Large buffers freed (an attack's, a burst's): returned to the system at the next sweep.
  frontdoor::ReleaseAfter release_{16 << 20, absl::Seconds(2)};
};

namespace h2relay {

// A socket with an nghttp2 session: a client's connection or one to a backend. Reads feed the
// session, writes drain it; over TLS once the handshake is done.
class Conn {
 public:
  Conn(H2Relay::Loop* loop, int fd) : loop_(loop), fd_(fd) {}
  virtual ~Conn();
  // From now on the bytes on the socket are TLS records; nothing is relayed before the
  // handshake completes.
  void UseTls(SSL* ssl) {
    ssl_ = ssl;
    ready = false;
  }
  bool handshaking() const { return ssl_ != nullptr && !handshaken_; }

  // The session with the subclass's handlers (`begin` may be null) and `settings`; window
  // updates are sent only for bytes the other side has taken (end-to-end back-pressure).
  void OpenSession(bool server, nghttp2_on_begin_headers_callback begin,
                   nghttp2_on_header_callback header, nghttp2_on_frame_recv_callback frame,
                   nghttp2_on_data_chunk_recv_callback data, nghttp2_on_stream_close_callback close,
                   const std::vector<nghttp2_settings_entry>& settings);
  // Advances the TLS handshake: 1 done (HTTP/2 negotiated), 0 in progress (`want_write`: it
  // waits for the socket to take bytes), -1 failed (`error` says why).
  int Handshake(bool* want_write, std::string* error);
  virtual bool upstream() const = 0;
  int fd() const { return fd_; }
  nghttp2_session* session() const { return session_; }
  H2Relay::Loop* loop() const { return loop_; }
  bool dead() const { return dead_; }
  void Kill() { dead_ = true; }
  bool dirty = false;
  bool connected = true;  // a backend connection is not until connect() completes
  bool ready = true;      // connected, and the TLS handshake (if any) done
  uint32_t events = 0;

  // A stream's DATA to the loop's `on`; DATA of a stream already gone is credited back at once.
  template <void (H2Relay::Loop::*on)(Stream*, const uint8_t*, size_t)>
  static int OnDataTo(nghttp2_session* session, uint8_t, int32_t id, const uint8_t* data,
                      size_t length, void* user) {
    Stream* s = StreamOf(session, id);
    if (s == nullptr) {
      nghttp2_session_consume(session, id, length);
      return 0;
    }
    (static_cast<Conn*>(user)->loop_->*on)(s, data, length);
    return 0;
  }
  // A DATA frame the read callbacks left uncopied (NGHTTP2_DATA_FLAG_NO_COPY): its header and
  // the stream's bytes (a backend connection sends the request, a client's the response),
  // written straight to the output. No padding is ever chosen.
  static int SendData(nghttp2_session*, nghttp2_frame*, const uint8_t* framehd, size_t length,
                      nghttp2_data_source* source, void* user);
  // A stream's end on this connection to the loop's `on`.
  template <void (H2Relay::Loop::*on)(Stream*, uint32_t)>
  static int OnCloseTo(nghttp2_session* session, int32_t id, uint32_t error_code, void* user) {
    if (Stream* s = StreamOf(session, id); s != nullptr) {
      (static_cast<Conn*>(user)->loop_->*on)(s, error_code);
    }
    return 0;
  }

  // Feeds what the socket has to the session. False when the connection is over.
  bool ReadSome();
  // Writes what the session has. False when the connection is over; sets `blocked` when the
  // socket is full (the caller then waits for EPOLLOUT).
  bool Flush(bool* blocked);

 protected:
  H2Relay::Loop* loop_;
  int fd_;
  nghttp2_session* session_ = nullptr;
  SSL* ssl_ = nullptr;
  bool handshaken_ = false;
  std::string out_;
  size_t out_offset_ = 0;
  bool dead_ = false;
};

// A client's connection: its streams are calls (H2Relay::Loop::OnRequest).
class ClientConn final : public Conn {
 public:
  // Holds a place in `limits` for `peer` (taken by the accepting loop) until it goes.
  ClientConn(H2Relay::Loop* loop, int fd, frontdoor::ConnectionLimits* limits, std::string peer);
  ~ClientConn() override { limits_->Remove(peer_); }
  bool upstream() const override { return false; }

  std::unordered_set<Stream*> streams;
  absl::Time opened;
  absl::Time last_active;
  bool called = false;          // a call was made on it
  absl::Time request_progress;  // request bytes last arrived, on any of its calls
  bool greeted = false;         // the client's SETTINGS arrived
  int oversized_blocks = 0;     // header blocks cut off (kHeaderBlockCutoff)

 private:
  frontdoor::ConnectionLimits* limits_;
  std::string peer_;
  static int BeginHeaders(nghttp2_session* session, const nghttp2_frame* frame, void* user);
  static int OnHeader(nghttp2_session* session, const nghttp2_frame* frame, const uint8_t* name,
                      size_t name_length, const uint8_t* value, size_t value_length, uint8_t,
                      void* user);
  static int OnFrame(nghttp2_session* session, const nghttp2_frame* frame, void* user);
};

// A connection to a backend (or the loopback server): its streams are the calls relayed there.
class Upstream final : public Conn {
 public:
  Upstream(H2Relay::Loop* loop, int fd, int target, const sockaddr_storage& address);
  bool upstream() const override { return true; }

  // Room for one more call: connected or connecting, not told to go away, below the
  // backend's stream limit.
  bool Usable() const {
    return !dead_ && !going_away &&
           streams.size() < nghttp2_session_get_remote_settings(
                                session_, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
  }

  const int target;
  const sockaddr_storage address;
  std::unordered_set<Stream*> streams;
  absl::Time started;
  bool going_away = false;
  // Keepalive: a frame arrived since the last sweep; when one last did; an unanswered PING.
  bool heard_recently = false;
  absl::Time heard;
  absl::Time ping_sent = absl::InfinitePast();

 private:
  static int OnHeader(nghttp2_session* session, const nghttp2_frame* frame, const uint8_t* name,
                      size_t name_length, const uint8_t* value, size_t value_length, uint8_t,
                      void*);
  static int OnFrame(nghttp2_session* session, const nghttp2_frame* frame, void* user);
};

}  // namespace h2relay

}  // namespace accord
