#include "frontdoor/h2_relay.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include <openssl/err.h>

#include "common/host_port.h"
#include "common/log.h"
#include "common/rpc_metrics.h"
#include "common/status.h"
#include "common/trace.h"
#include "frontdoor/acceptor.h"
#include "frontdoor/buffer_budget.h"
#include "frontdoor/connection_limits.h"
#include "frontdoor/event_loop.h"
#include "frontdoor/memory.h"
#include "frontdoor/relay_tls.h"
#include "frontdoor/sockets.h"
#include <nghttp2/nghttp2.h>

namespace accord {
namespace {

using Header = RelayHeader;
using frontdoor::AddressLength;
using frontdoor::NoDelay;
using frontdoor::Resolve;

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
};

// grpc-timeout ("100m", "5S"): the caller's deadline, InfiniteFuture when absent or malformed.
absl::Time DeadlineFromTimeout(absl::string_view value, absl::Time now) {
  if (value.size() < 2 || value.size() > 9) {
    return absl::InfiniteFuture();
  }
  int64_t n = 0;
  if (!absl::SimpleAtoi(value.substr(0, value.size() - 1), &n) || n < 0) {
    return absl::InfiniteFuture();
  }
  switch (value.back()) {
    case 'H':
      return now + absl::Hours(n);
    case 'M':
      return now + absl::Minutes(n);
    case 'S':
      return now + absl::Seconds(n);
    case 'm':
      return now + absl::Milliseconds(n);
    case 'u':
      return now + absl::Microseconds(n);
    case 'n':
      return now + absl::Nanoseconds(n);
    default:
      return absl::InfiniteFuture();
  }
}

// The grpc-timeout value for `left` (at most 8 digits, the finest unit that fits).
std::string TimeoutValue(absl::Duration left) {
  int64_t us = std::max<int64_t>(1, absl::ToInt64Microseconds(left));
  if (us < 100000000) {
    return absl::StrCat(us, "u");
  }
  int64_t ms = us / 1000;
  if (ms < 100000000) {
    return absl::StrCat(ms, "m");
  }
  return absl::StrCat(std::min<int64_t>(ms / 1000, 99999999), "S");
}

// grpc-message is percent-encoded (the gRPC HTTP/2 protocol).
std::string PercentEncode(absl::string_view message) {
  std::string out;
  for (unsigned char c : message) {
    if (c >= 0x20 && c <= 0x7e && c != '%') {
      out.push_back(static_cast<char>(c));
    } else {
      absl::StrAppend(&out, "%",
                      absl::AsciiStrToUpper(absl::BytesToHexString(
                          absl::string_view(reinterpret_cast<char*>(&c), 1))));
    }
  }
  return out;
}

// A backend's status from its trailers (or trailers-only headers): grpc-status, grpc-message
// (percent-decoded) and grpc-status-details-bin (base64).
absl::Status StatusOfTrailers(const std::vector<Header>& trailers) {
  int code = -1;
  std::string message;
  std::string details;
  for (const auto& [name, value] : trailers) {
    if (name == "grpc-status") {
      if (!absl::SimpleAtoi(value, &code)) {
        code = static_cast<int>(absl::StatusCode::kUnknown);
      }
    } else if (name == "grpc-message") {
      for (size_t i = 0; i < value.size(); ++i) {
        int byte = 0;
        if (value[i] == '%' && i + 2 < value.size() &&
            absl::SimpleHexAtoi(value.substr(i + 1, 2), &byte)) {
          message.push_back(static_cast<char>(byte));
          i += 2;
        } else {
          message.push_back(value[i]);
        }
      }
    } else if (name == "grpc-status-details-bin") {
      absl::Base64Unescape(value, &details);
    }
  }
  if (code < 0) {
    return absl::InternalError("the backend's response carries no grpc-status");
  }
  return FromGrpcStatus(grpc::Status(static_cast<grpc::StatusCode>(code), message, details));
}

// A compressed request message (grpc-encoding gzip or deflate) inflated into `out`;
// RESOURCE_EXHAUSTED when it would exceed `limit` bytes, INVALID_ARGUMENT when it is corrupt.
absl::Status Inflate(absl::string_view in, absl::string_view encoding, size_t limit,
                     std::string* out) {
  z_stream z{};
  if (inflateInit2(&z, encoding == "gzip" ? 16 + MAX_WBITS : MAX_WBITS) != Z_OK) {
    return absl::InternalError("cannot inflate");
  }
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  out->clear();
  int r = Z_OK;
  while (r == Z_OK) {
    if (out->size() >= limit + 1) {
      break;
    }
    const size_t at = out->size();
    out->resize(std::min(limit + 1, std::max<size_t>(at * 2, 4096)));
    z.next_out = reinterpret_cast<Bytef*>(out->data() + at);
    z.avail_out = static_cast<uInt>(out->size() - at);
    r = inflate(&z, Z_NO_FLUSH);
    out->resize(out->size() - z.avail_out);
  }
  inflateEnd(&z);
  if (out->size() > limit) {
    return absl::ResourceExhaustedError(
        absl::StrCat("a request message inflates to more than the limit of ", limit, " bytes"));
  }
  if (r != Z_STREAM_END || z.avail_in != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("a request message is not valid ", encoding, " data"));
  }
  return absl::OkStatus();
}

// Values new with every call: HPACK would only churn its table with them.
bool OncePerCall(absl::string_view name) {
  return name == "grpc-timeout" || name == "x-request-id" || name == "traceparent";
}

std::vector<nghttp2_nv> NameValues(const std::vector<Header>& headers) {
  std::vector<nghttp2_nv> nv;
  nv.reserve(headers.size());
  for (const auto& [name, value] : headers) {
    nv.push_back({reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
                  reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(),
                  value.size(),
                  static_cast<uint8_t>(OncePerCall(name) ? NGHTTP2_NV_FLAG_NO_INDEX
                                                         : NGHTTP2_NV_FLAG_NONE)});
  }
  return nv;
}

}  // namespace

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
  // On the loop: the call of `token` ends CANCELLED, its backend stream reset (before it
  // starts: it never starts).
  void CancelCall(const std::shared_ptr<H2Relay::CallToken>& token);
  frontdoor::EventLoop& events() { return events_; }
  Loop(RelayRoutes& routes, const RelayOptions& options, RpcMetrics* rpc_metrics, Workers* workers,
       frontdoor::ConnectionLimits* limits, frontdoor::BufferBudget* budget);
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
  void Adopt(int fd, std::string peer);
  // Hands an accepted connection to this loop (from another loop's thread).
  void Give(int fd, std::string peer);
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
  std::mutex inbox_mu_;
  // Guarded by inbox_mu_: connections (and their peers) given by the first loop.
  std::vector<std::pair<int, std::string>> inbox_;
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
  // Large buffers freed (an attack's, a burst's): returned to the system at the next sweep.
  frontdoor::ReleaseAfter release_{16 << 20, absl::Seconds(2)};
};

namespace {

// A socket with an nghttp2 session.
Stream* StreamOf(nghttp2_session* session, int32_t id) {
  return static_cast<Stream*>(nghttp2_session_get_stream_user_data(session, id));
}

class Conn {
 public:
  Conn(H2Relay::Loop* loop, int fd) : loop_(loop), fd_(fd) {}
  virtual ~Conn() {
    if (session_ != nullptr) {
      nghttp2_session_del(session_);
    }
    if (ssl_ != nullptr) {
      SSL_free(ssl_);
    }
    if (fd_ >= 0) {
      close(fd_);
    }
  }
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
                   const std::vector<nghttp2_settings_entry>& settings) {
    nghttp2_session_callbacks* cb = nullptr;
    nghttp2_session_callbacks_new(&cb);
    if (begin != nullptr) {
      nghttp2_session_callbacks_set_on_begin_headers_callback(cb, begin);
    }
    nghttp2_session_callbacks_set_on_header_callback(cb, header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, frame);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, data);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, close);
    nghttp2_session_callbacks_set_send_data_callback(cb, &Conn::SendData);
    nghttp2_option* option = nullptr;
    nghttp2_option_new(&option);
    nghttp2_option_set_no_auto_window_update(option, 1);
    // No RFC 7540 priority tree: gRPC does not use it, and keeping it costs per stream.
    nghttp2_option_set_no_closed_streams(option, 1);
    if (server) {
      nghttp2_session_server_new2(&session_, cb, this, option);
    } else {
      nghttp2_session_client_new2(&session_, cb, this, option);
    }
    nghttp2_option_del(option);
    nghttp2_session_callbacks_del(cb);
    nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings.data(), settings.size());
    nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0, kConnectionWindow);
  }
  // Advances the TLS handshake: 1 done (HTTP/2 negotiated), 0 in progress (`want_write`: it
  // waits for the socket to take bytes), -1 failed (`error` says why).
  int Handshake(bool* want_write, std::string* error) {
    *want_write = false;
    int r = SSL_do_handshake(ssl_);
    if (r == 1) {
      if (!NegotiatedH2(ssl_)) {
        *error = "the peer did not negotiate HTTP/2 (ALPN h2)";
        return -1;
      }
      handshaken_ = true;
      ready = true;
      return 1;
    }
    int e = SSL_get_error(ssl_, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
      *want_write = e == SSL_ERROR_WANT_WRITE;
      return 0;
    }
    unsigned long code = ERR_get_error();
    char text[256] = "connection closed during the TLS handshake";
    if (code != 0) {
      ERR_error_string_n(code, text, sizeof text);
    }
    ERR_clear_error();
    *error = text;
    return -1;
  }
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
                      nghttp2_data_source* source, void* user) {
    auto* self = static_cast<Conn*>(user);
    auto* s = static_cast<Stream*>(source->ptr);
    self->out_.append(reinterpret_cast<const char*>(framehd), 9);
    (self->upstream() ? s->request : s->response).MoveTo(self->out_, length);
    return 0;
  }
  // A stream's end on this connection to the loop's `on`.
  template <void (H2Relay::Loop::*on)(Stream*, uint32_t)>
  static int OnCloseTo(nghttp2_session* session, int32_t id, uint32_t error_code, void* user) {
    if (Stream* s = StreamOf(session, id); s != nullptr) {
      (static_cast<Conn*>(user)->loop_->*on)(s, error_code);
    }
    return 0;
  }

  // Feeds what the socket has to the session. False when the connection is over.
  bool ReadSome() {
    char buf[64 * 1024];
    if (ssl_ != nullptr) {
      for (int i = 0; i < 64; ++i) {  // one TLS record per SSL_read
        int n = SSL_read(ssl_, buf, sizeof buf);
        if (n > 0) {
          if (nghttp2_session_mem_recv(session_, reinterpret_cast<const uint8_t*>(buf), n) < 0) {
            return false;
          }
          continue;
        }
        int e = SSL_get_error(ssl_, n);
        ERR_clear_error();
        return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE;
      }
      return true;
    }
    for (int i = 0; i < 16; ++i) {
      ssize_t n = read(fd_, buf, sizeof buf);
      if (n > 0) {
        ssize_t used = nghttp2_session_mem_recv(session_, reinterpret_cast<const uint8_t*>(buf), n);
        if (used < 0) {
          return false;
        }
        if (static_cast<size_t>(n) < sizeof buf) {
          return true;
        }
        continue;
      }
      if (n == 0) {
        return false;
      }
      return errno == EAGAIN || errno == EINTR;
    }
    return true;
  }

  // Writes what the session has. False when the connection is over; sets `blocked` when the
  // socket is full (the caller then waits for EPOLLOUT).
  bool Flush(bool* blocked) {
    *blocked = false;
    for (;;) {
      while (out_.size() - out_offset_ < kWriteChunk) {
        const uint8_t* data = nullptr;
        ssize_t n = nghttp2_session_mem_send(session_, &data);
        if (n < 0) {
          return false;
        }
        if (n == 0) {
          break;
        }
        out_.append(reinterpret_cast<const char*>(data), n);
      }
      if (out_offset_ == out_.size()) {
        out_.clear();
        out_offset_ = 0;
        return nghttp2_session_want_read(session_) || nghttp2_session_want_write(session_);
      }
      if (ssl_ != nullptr) {
        int w =
            SSL_write(ssl_, out_.data() + out_offset_, static_cast<int>(out_.size() - out_offset_));
        if (w <= 0) {
          int e = SSL_get_error(ssl_, w);
          ERR_clear_error();
          if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
            *blocked = true;
            return true;
          }
          return false;
        }
        out_offset_ += w;
        continue;
      }
      ssize_t w = send(fd_, out_.data() + out_offset_, out_.size() - out_offset_, MSG_NOSIGNAL);
      if (w < 0) {
        if (errno == EAGAIN || errno == EINTR) {
          *blocked = true;
          return true;
        }
        return false;
      }
      out_offset_ += w;
    }
  }

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

class ClientConn final : public Conn {
 public:
  // Holds a place in `limits` for `peer` (taken by the accepting loop) until it goes.
  ClientConn(H2Relay::Loop* loop, int fd, frontdoor::ConnectionLimits* limits, std::string peer)
      : Conn(loop, fd), limits_(limits), peer_(std::move(peer)) {
    const RelayOptions& o = loop->options();
    OpenSession(
        true, &ClientConn::BeginHeaders, &ClientConn::OnHeader, &ClientConn::OnFrame,
        &OnDataTo<&H2Relay::Loop::OnRequestData>, &OnCloseTo<&H2Relay::Loop::OnClientStreamClosed>,
        {{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, static_cast<uint32_t>(o.max_concurrent_streams)},
         {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, kRequestStreamWindow},
         {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, static_cast<uint32_t>(o.max_header_bytes)},
         {NGHTTP2_SETTINGS_NO_RFC7540_PRIORITIES, 1}});
    opened = last_active = loop->Now();
  }
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
  static int BeginHeaders(nghttp2_session* session, const nghttp2_frame* frame, void* user) {
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) {
      return 0;
    }
    auto* self = static_cast<ClientConn*>(user);
    Stream* s = self->loop_->NewStream(self, frame->hd.stream_id);
    nghttp2_session_set_stream_user_data(session, frame->hd.stream_id, s);
    return 0;
  }
  static int OnHeader(nghttp2_session* session, const nghttp2_frame* frame, const uint8_t* name,
                      size_t name_length, const uint8_t* value, size_t value_length, uint8_t,
                      void* user) {
    Stream* s = StreamOf(session, frame->hd.stream_id);
    if (s == nullptr || frame->hd.type != NGHTTP2_HEADERS ||
        frame->headers.cat != NGHTTP2_HCAT_REQUEST) {
      return 0;  // request trailers carry nothing a gRPC call needs
    }
    auto* self = static_cast<ClientConn*>(user);
    const size_t limit = self->loop_->options().max_header_bytes;
    s->header_bytes += name_length + value_length;
    if (s->header_bytes <= limit) {
      s->headers.emplace_back(std::string(reinterpret_cast<const char*>(name), name_length),
                              std::string(reinterpret_cast<const char*>(value), value_length));
      return 0;
    }
    // Past the limit the call is refused (RESOURCE_EXHAUSTED, OnRequest). A block that goes on
    // well past it is not decoded further: a few KB of HPACK can name one 4 KB table entry
    // thousands of times (an HPACK bomb), and every field decoded is checked byte by byte.
    // nghttp2 resets the stream and skips the rest of the block; a connection that keeps
    // sending such blocks is closed.
    if (s->header_bytes > kHeaderBlockCutoff * limit) {
      return ++self->oversized_blocks > kMaxOversizedBlocks ? NGHTTP2_ERR_CALLBACK_FAILURE
                                                            : NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    }
    return 0;
  }
  static int OnFrame(nghttp2_session* session, const nghttp2_frame* frame, void* user) {
    auto* self = static_cast<ClientConn*>(user);
    if (frame->hd.type == NGHTTP2_SETTINGS) {
      self->greeted = true;
    }
    Stream* s = frame->hd.stream_id != 0 ? StreamOf(session, frame->hd.stream_id) : nullptr;
    if (s == nullptr) {
      return 0;
    }
    const bool end = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
    if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
      self->loop_->OnRequest(s, end);
    } else if (end && (frame->hd.type == NGHTTP2_DATA || frame->hd.type == NGHTTP2_HEADERS)) {
      self->loop_->OnRequestData(s, nullptr, 0);
    }
    return 0;
  }
};

class Upstream final : public Conn {
 public:
  Upstream(H2Relay::Loop* loop, int fd, int target, const sockaddr_storage& address)
      : Conn(loop, fd), target(target), address(address) {
    OpenSession(false, nullptr, &Upstream::OnHeader, &Upstream::OnFrame,
                &OnDataTo<&H2Relay::Loop::OnResponseData>,
                &OnCloseTo<&H2Relay::Loop::OnUpstreamStreamClosed>,
                {{NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
                 {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, kResponseStreamWindow},
                 {NGHTTP2_SETTINGS_NO_RFC7540_PRIORITIES, 1}});
    connected = false;
    ready = false;
    started = heard = loop->Now();
  }
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
                      void*) {
    Stream* s = StreamOf(session, frame->hd.stream_id);
    if (s == nullptr || frame->hd.type != NGHTTP2_HEADERS) {
      return 0;
    }
    auto& into = frame->headers.cat == NGHTTP2_HCAT_RESPONSE ? s->headers : s->trailers;
    into.emplace_back(std::string(reinterpret_cast<const char*>(name), name_length),
                      std::string(reinterpret_cast<const char*>(value), value_length));
    return 0;
  }
  static int OnFrame(nghttp2_session* session, const nghttp2_frame* frame, void* user) {
    auto* self = static_cast<Upstream*>(user);
    if (frame->hd.type == NGHTTP2_GOAWAY) {
      self->going_away = true;
      return 0;
    }
    self->heard_recently = true;
    Stream* s = frame->hd.stream_id != 0 ? StreamOf(session, frame->hd.stream_id) : nullptr;
    if (s == nullptr) {
      return 0;
    }
    const bool end = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
    if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_RESPONSE) {
      self->loop_->OnResponseHeaders(s, end);
    } else if (end && (frame->hd.type == NGHTTP2_DATA || frame->hd.type == NGHTTP2_HEADERS)) {
      self->loop_->OnResponseEnd(s);
    }
    return 0;
  }
};

ssize_t ReadRequestCallback(nghttp2_session*, int32_t, uint8_t*, size_t length, uint32_t* flags,
                            nghttp2_data_source* source, void* user) {
  return static_cast<Conn*>(user)->loop()->ReadRequest(static_cast<Stream*>(source->ptr), length,
                                                       flags);
}

ssize_t ReadResponseCallback(nghttp2_session*, int32_t, uint8_t*, size_t length, uint32_t* flags,
                             nghttp2_data_source* source, void* user) {
  return static_cast<Conn*>(user)->loop()->ReadResponse(static_cast<Stream*>(source->ptr), length,
                                                        flags);
}

const Clock& SystemTime() {
  static const SystemClock clock;
  return clock;
}

}  // namespace

H2Relay::Loop::Loop(RelayRoutes& routes, const RelayOptions& options, RpcMetrics* rpc_metrics,
                    Workers* workers, frontdoor::ConnectionLimits* limits,
                    frontdoor::BufferBudget* budget)
    : routes_(routes),
      options_(options),
      clock_(options.clock != nullptr ? options.clock : &SystemTime()),
      internal_(static_cast<int>(options.backends.size())),
      rpc_metrics_(rpc_metrics),
      workers_(workers),
      limits_(limits),
      budget_(budget) {
  now_ = Now();
  const size_t targets = options_.backends.size() + 1;
  for (const RelayBackend& b : options_.backends) {
    // A gRPC target ("dns:///registry:7401", as the Kubernetes manifests give the gateway)
    // names the same HOST:PORT: the relay resolves it itself, every address.
    target_address_.emplace_back(HostPortOfTarget(b.address));
    target_name_.push_back(b.name);
  }
  target_address_.emplace_back();
  target_name_.emplace_back("internal");
  upstreams_.resize(targets);
  addresses_.resize(targets);
  resolved_.resize(targets);
  next_.assign(targets, 0);
  failure_logged_.assign(targets, absl::InfinitePast());
}

H2Relay::Loop::~Loop() {
  Stop(absl::ZeroDuration());
  Join();
  {
    std::lock_guard lock(push_inbox_->mu);
    push_inbox_->loop = nullptr;  // pushes from now on are dropped
  }
  for (const auto& [s, owned] : streams_) {
    FinishCall(s, absl::UnavailableError("the server is shutting down"));
  }
  for (InternalCall& call : calls_) {
    call.done(absl::UnavailableError("the server is shutting down"), "");
  }
  calls_.clear();
  streams_.clear();
  conns_.clear();
  for (const auto& [fd, peer] : inbox_) {
    close(fd);
    limits_->Remove(peer);
  }
  if (listen_fd_ >= 0) {
    close(listen_fd_);
  }
}

absl::Status H2Relay::Loop::Listen(bool listen_too) {
  if (options_.server_tls.enabled()) {
    absl::StatusOr<std::unique_ptr<RelayTls>> tls = RelayTls::ForServer(options_.server_tls);
    if (!tls.ok()) {
      return tls.status();
    }
    server_tls_ = *std::move(tls);
  }
  if (!options_.backend_tls.ca.empty()) {
    absl::StatusOr<std::unique_ptr<RelayTls>> tls = RelayTls::ForClient(options_.backend_tls);
    if (!tls.ok()) {
      return tls.status();
    }
    client_tls_ = *std::move(tls);
  }
  if (!listen_too) {
    return absl::OkStatus();
  }
  absl::StatusOr<int> fd = frontdoor::ListenOn(options_.listen, "--listen");
  if (!fd.ok()) {
    return fd.status();
  }
  listen_fd_ = *fd;
  port_ = frontdoor::LocalPort(listen_fd_);
  acceptor_ = std::make_unique<frontdoor::Acceptor>(
      events_, *limits_, "gRPC",
      [this](int fd, std::string peer) {
        // Dealt in turn, so that even two connections (a gateway's) use two loops.
        Loop* to = loops_[next_loop_++ % loops_.size()];
        if (to == this) {
          Adopt(fd, std::move(peer));
        } else {
          to->Give(fd, std::move(peer));
        }
      },
      [this](absl::string_view reason) { routes_.CountRejected(reason); });
  acceptor_->Start(listen_fd_);
  return absl::OkStatus();
}

void H2Relay::Loop::Start(const std::string& internal, std::vector<Loop*> loops) {
  loops_ = std::move(loops);
  target_address_[internal_] = internal;
  for (size_t t = 0; t < target_address_.size(); ++t) {
    addresses_[t] = Resolve(target_address_[t], false);
  }
  last_sweep_ = Now();
  events_.SetTurn([this] { now_ = Now(); }, [this] { EndTurn(); });
  events_.SetOnWake([this] { OnWake(); });
  events_.Start();
  if (internal_ > 0) {
    resolver_ = std::thread([this] { ResolveLoop(); });
  }
}

void H2Relay::Loop::Stop(absl::Duration grace) {
  grace_ns_.store(absl::ToInt64Nanoseconds(grace));
  stopping_.store(true);
  events_.Wake();
}

void H2Relay::Loop::Join() {
  events_.Join();
  {
    std::lock_guard lock(resolve_mu_);
    resolver_stopping_ = true;
    resolve_cv_.notify_one();
  }
  if (resolver_.joinable()) {
    resolver_.join();
  }
}

const std::string& H2Relay::Loop::TargetName(int target) const { return target_name_[target]; }

Stream* H2Relay::Loop::NewStream(ClientConn* client, int32_t id) {
  auto owned = std::make_unique<Stream>(options_.max_message_bytes);
  Stream* s = owned.get();
  s->headers.reserve(16);
  s->client = client;
  s->client_id = id;
  s->serial = ++next_serial_;
  s->request_progress = s->response_progress = s->opened = now_;
  client->streams.insert(s);
  client->called = true;
  client->last_active = Now();
  streams_.emplace(s, std::move(owned));
  return s;
}

void H2Relay::Loop::MarkDirty(Conn* c) {
  if (c != nullptr && !c->dirty) {
    c->dirty = true;
    dirty_.push_back(c);
  }
}

void H2Relay::Loop::Record(Stream* s, const std::vector<Header>& headers) {
  int code = 2;
  absl::string_view message;
  for (const auto& [name, value] : headers) {
    if (name == "grpc-status" && !absl::SimpleAtoi(value, &code)) {
      code = 2;
    } else if (name == "grpc-message") {
      message = value;
    }
  }
  Record(s, code, message);
}

void H2Relay::Loop::Record(Stream* s, int code, absl::string_view message) {
  if (s->recorded || s->route == nullptr || rpc_metrics_ == nullptr) {
    return;  // the loopback server records what it answers
  }
  s->recorded = true;
  rpc_metrics_->Record(s->route->path, code, message, TraceIdFromTraceparent(s->traceparent),
                       absl::ToDoubleSeconds(Now() - s->started));
}

void H2Relay::Loop::OnRequest(Stream* s, bool end_stream) {
  s->headers_whole = true;
  s->request.eof = end_stream;
  absl::string_view path, content_type, timeout, encoding;
  CallerHeaders caller;
  std::vector<Header> passed;  // content negotiation headers the backend needs
  for (const auto& [name, value] : s->headers) {
    if (name == ":path") {
      path = value;
    } else if (name == "content-type") {
      content_type = value;
    } else if (name == "grpc-timeout") {
      timeout = value;
    } else if (name == "authorization") {
      caller.repeated_authorization = caller.authorization.has_value();
      caller.authorization = value;
    } else if (name == "x-accord-roles") {
      caller.roles = value;
    } else if (name == "x-request-id") {
      caller.request_id = value;
    } else if (name == "traceparent") {
      caller.traceparent = value;
    } else if (name == "tracestate") {
      caller.tracestate = value;
    } else if (name == "grpc-encoding" || name == "grpc-accept-encoding" || name == "user-agent") {
      if (name == "grpc-encoding") {
        encoding = value;
      }
      passed.emplace_back(name, value);
    }
  }
  if (!absl::StartsWith(content_type, "application/grpc")) {
    std::vector<Header> status = {{":status", "415"}};
    std::vector<nghttp2_nv> nv = NameValues(status);
    nghttp2_submit_response(s->client->session(), s->client_id, nv.data(), nv.size(), nullptr);
    s->responded = true;
    s->response.eof = true;
    MarkDirty(s->client);
    return;
  }
  if (s->header_bytes > options_.max_header_bytes) {
    s->target = internal_;
    Reject(s, absl::ResourceExhaustedError(absl::StrCat("request headers of ", s->header_bytes,
                                                        " bytes exceed the limit of ",
                                                        options_.max_header_bytes)));
    return;
  }
  std::vector<Header> headers;
  const absl::Time now = Now();
  s->started = now;
  s->watch = std::find(options_.watch_paths.begin(), options_.watch_paths.end(), path) !=
             options_.watch_paths.end();
  s->route = routes_.Find(path);
  if (s->route == nullptr) {
    // Health, reflection, the server's own services, unknown methods: its loopback gRPC
    // server answers them, with the caller's headers as they came.
    s->target = internal_;
    headers = std::move(s->headers);
    for (auto& [name, value] : headers) {
      if (name == ":authority") {
        value = target_address_[internal_];
      }
    }
  } else {
    s->target = s->route->backend;
    absl::StatusOr<std::unique_ptr<RelayTicket>> ticket = routes_.Admit(*s->route, caller);
    if (!ticket.ok()) {
      Reject(s, ticket.status());
      return;
    }
    s->ticket = *std::move(ticket);
    s->deadline = routes_.Deadline(*s->route, DeadlineFromTimeout(timeout, now));
    if (s->route->local != nullptr) {
      s->encoding = std::string(encoding);
      s->headers.clear();
      BeginLocal(s);
      return;
    }
    headers = BackendRequestHeaders(s, path, content_type);
    for (Header& h : passed) {
      headers.push_back(std::move(h));
    }
    for (Header& h : routes_.BackendHeaders(caller)) {
      if (h.first == "traceparent") {
        s->traceparent = h.second;
      }
      headers.push_back(std::move(h));
    }
  }
  s->headers.clear();  // its capacity (when not moved) takes the response's
  if (absl::Status opened = OpenUpstream(s, headers); !opened.ok()) {
    Reject(s, opened);
  }
}

std::vector<Header> H2Relay::Loop::BackendRequestHeaders(const Stream* s, absl::string_view path,
                                                         absl::string_view content_type) const {
  std::vector<Header> headers;
  headers.reserve(16);
  headers = {{":method", "POST"},
             {":scheme", client_tls_ != nullptr ? "https" : "http"},
             {":path", std::string(path)},
             {":authority", target_address_[s->target]},
             {"content-type", std::string(content_type)},
             {"te", "trailers"}};
  if (s->deadline != absl::InfiniteFuture()) {
    headers.emplace_back("grpc-timeout", TimeoutValue(s->deadline - now_));
  }
  return headers;
}

absl::Status H2Relay::Loop::OpenUpstream(Stream* s, const std::vector<Header>& headers) {
  Upstream* up = Pick(s->target);
  if (up == nullptr) {
    return absl::UnavailableError(absl::StrCat("backend ", TargetName(s->target), " (",
                                               target_address_[s->target], ") is unavailable"));
  }
  std::vector<nghttp2_nv> nv = NameValues(headers);
  nghttp2_data_provider provider{};
  provider.source.ptr = s;
  provider.read_callback = &ReadRequestCallback;
  int32_t id = nghttp2_submit_request(up->session(), nullptr, nv.data(), nv.size(), &provider, s);
  if (id < 0) {
    return absl::UnavailableError(absl::StrCat(
        "backend ", TargetName(s->target), ": cannot open a stream (", nghttp2_strerror(id), ")"));
  }
  s->up = up;
  s->up_id = id;
  s->up_open = true;
  up->streams.insert(s);
  MarkDirty(up);
  return absl::OkStatus();
}

void H2Relay::Loop::OnRequestData(Stream* s, const uint8_t* data, size_t size) {
  ClientConn* client = s->client;
  if (size > 0) {
    s->request_progress = client->request_progress = now_;
    if (!s->up_open) {
      // Refused or over: nobody takes these bytes, the window is given back at once.
      nghttp2_session_consume(client->session(), s->client_id, size);
      MarkDirty(client);
      return;
    }
    // gRPC framing: a message longer than the limit is refused before it reaches a backend.
    if (s->route != nullptr) {
      if (absl::Status framing =
              s->framing.Feed(absl::string_view(reinterpret_cast<const char*>(data), size));
          !framing.ok()) {
        if (s->up != nullptr) {
          nghttp2_submit_rst_stream(s->up->session(), NGHTTP2_FLAG_NONE, s->up_id, NGHTTP2_CANCEL);
          MarkDirty(s->up);
        }
        nghttp2_session_consume(client->session(), s->client_id, size);
        EndResponse(s, framing);
        return;
      }
    }
    s->request.data.append(reinterpret_cast<const char*>(data), size);
  } else {
    s->request.eof = true;
  }
  if (s->local != nullptr) {
    // The connection's window is credited at once, the stream's when the call takes the
    // bytes (MayCredit): a call held back never holds up the connection's other calls (on a
    // gateway's connection, other callers').
    nghttp2_session_consume_connection(client->session(), size);
    MarkDirty(client);
    s->local_owed += size;
    RunLocal(s);
  } else if (s->up_open) {
    nghttp2_session_resume_data(s->up->session(), s->up_id);
    MarkDirty(s->up);
  }
}

// A call's LocalPush: holds the loop's inbox (not the loop) and the call weakly, so that a push
// after the call or the loop has gone is dropped.
class H2Relay::Loop::Push final : public LocalPush {
 public:
  Push(std::shared_ptr<PushInbox> inbox, Stream* stream, uint64_t serial,
       std::weak_ptr<LocalCall> call)
      : inbox_(std::move(inbox)), stream_(stream), serial_(serial), call_(std::move(call)) {}

  bool Write(std::string messages) override {
    return Send({stream_, serial_, nullptr, absl::OkStatus(), std::move(messages), true, false});
  }
  void Finish(const absl::Status& status) override {
    Send({stream_, serial_, nullptr, status, {}, true, true});
  }

 private:
  bool Send(LocalResult result) {
    std::lock_guard lock(inbox_->mu);
    if (inbox_->loop == nullptr) {
      return false;
    }
    result.call = call_.lock();
    if (result.call == nullptr) {
      return false;  // the call has ended
    }
    inbox_->loop->Deliver(std::move(result));
    return true;
  }

  std::shared_ptr<PushInbox> inbox_;
  Stream* stream_;
  uint64_t serial_;
  std::weak_ptr<LocalCall> call_;
};

void H2Relay::Loop::BeginLocal(Stream* s) {
  s->local = s->route->local->Begin();
  s->up_open = true;  // the local call takes the request's bytes
  s->pushes = s->local->Attach(std::make_shared<Push>(push_inbox_, s, s->serial, s->local));
  RunLocal(s);
}

void H2Relay::Loop::ApplyPush(Stream* s, LocalResult& r) {
  if (s->response.size() + r.response.size() > options_.max_push_backlog) {
    EndResponse(s, ErrorWithReason(absl::StatusCode::kResourceExhausted, "WATCHER_TOO_SLOW",
                                   "the watcher fell too far behind; resume from your last "
                                   "sequence"));
    return;
  }
  if (!r.response.empty()) {
    if (s->response.size() == 0) {
      s->response.data.swap(r.response);
      s->response.offset = 0;
    } else {
      s->response.data.append(r.response);
    }
    Respond(s);  // the headers go out with the first message, before any trailers
  }
  if (r.end || !r.status.ok()) {
    EndResponse(s, r.status);
  }
}

void H2Relay::Loop::RunLocal(Stream* s) {
  Pipe& in = s->request;
  while (s->local != nullptr && !s->local_busy && s->response.size() < kResponseBacklog) {
    if (s->local_owed > 0 && s->client_open && MayCredit(s)) {
      nghttp2_session_consume_stream(s->client->session(), s->client_id, s->local_owed);
      s->local_owed = 0;
      s->request_progress = now_;  // the caller may send again from now
      MarkDirty(s->client);
    }
    if (Now() > s->deadline) {
      EndResponse(s, absl::DeadlineExceededError("deadline exceeded"));
      return;
    }
    if (in.size() < 5) {
      if (in.eof && in.size() == 0 && s->pushes && s->local_messages > 0) {
        return;  // the call goes on answering through its push
      }
      if (in.eof && in.size() == 0) {
        EndResponse(s, s->route->unary && s->local_messages == 0
                           ? absl::InvalidArgumentError("a unary call sends one request message")
                           : s->local->OnHalfClose());
      } else if (in.eof || !s->client_open) {
        EndResponse(s, absl::InvalidArgumentError("the request ended inside a message"));
      }
      return;
    }
    absl::StatusOr<std::optional<frontdoor::MessageHead>> head =
        frontdoor::ReadPrefix(absl::string_view(in.data).substr(in.offset));
    if (!head.ok()) {
      EndResponse(s, head.status());
      return;
    }
    const bool compressed = (*head)->compressed;
    const size_t length = (*head)->length;
    if (in.size() - 5 < length) {
      if (in.eof) {
        EndResponse(s, absl::InvalidArgumentError("the request ended inside a message"));
      }
      return;
    }
    if (s->route->unary && s->local_messages == 1) {
      EndResponse(s, absl::InvalidArgumentError("a unary call sends one request message"));
      return;
    }
    absl::string_view message(in.data.data() + in.offset + 5, length);
    if (compressed && s->encoding != "gzip" && s->encoding != "deflate") {
      EndResponse(s, absl::UnimplementedError(absl::StrCat(
                         "grpc-encoding ", s->encoding.empty() ? "(none)" : s->encoding,
                         " is not supported: send identity, gzip or deflate")));
      return;
    }
    ++s->local_messages;
    // A large message goes to a worker, so that one connection's batches use every core; so
    // does every compressed one, whose size is known only once inflated (a few KB of gzip can
    // inflate to the 4 MiB limit): inflating and answering it on the loop would stall every
    // other call of the loop.
    if (workers_ != nullptr && (compressed || length >= options_.worker_min_bytes)) {
      s->local_busy = true;
      std::string bytes;
      size_t skip = 0;
      if (in.offset == 0 && in.data.size() == 5 + length) {
        bytes.swap(in.data);  // the whole pipe is this message (a unary call's, usually)
        skip = 5;
        s->reserved.Release();
      } else {
        bytes = std::string(message);
        TakeRequest(s, length);
      }
      workers_->Post([this, s, serial = s->serial, call = s->local, bytes = std::move(bytes), skip,
                      encoding = compressed ? s->encoding : std::string(),
                      limit = options_.max_message_bytes] {
        LocalResult result{s, serial, call, {}, {}};
        absl::string_view message = absl::string_view(bytes).substr(skip);
        std::string inflated;
        if (!encoding.empty()) {
          result.status = Inflate(message, encoding, limit, &inflated);
          message = inflated;
        }
        if (result.status.ok()) {
          result.response.reserve(kResponseReserve * message.size() + 64);
          result.status = call->OnMessage(message, result.response);
        }
        Deliver(std::move(result));
      });
      return;
    }
    std::string inflated;
    if (compressed) {
      if (absl::Status inflate =
              Inflate(message, s->encoding, options_.max_message_bytes, &inflated);
          !inflate.ok()) {
        EndResponse(s, inflate);
        return;
      }
      message = inflated;
    }
    const size_t before = s->response.data.size();
    if (before == 0) {
      s->response.data.reserve(kResponseReserve * length + 64);
    }
    absl::Status status = s->local->OnMessage(message, s->response.data);
    TakeRequest(s, length);
    if (!status.ok()) {
      s->response.data.resize(before);  // a half-written message is not sent
      EndResponse(s, status);
      return;
    }
    Respond(s);
  }
}

bool H2Relay::Loop::MayCredit(Stream* s) {
  if (s->request.size() <= kSmallRequest) {
    return true;  // the common case: no count to make
  }
  // Bytes are credited while the connection's local calls buffer at most
  // max_connection_buffer, or to the connection's largest message (so that one message always
  // completes and frees its bytes). A client that sends most of many large messages and stops
  // is held at its streams' windows, then ended by the stall timeout.
  size_t buffered = 0;
  bool largest = true;
  for (const Stream* other : s->client->streams) {
    if (other->local != nullptr) {
      buffered += other->request.size();
      // Ties go to the older stream: one stream only is the largest.
      largest = largest &&
                (other == s || other->request.size() < s->request.size() ||
                 (other->request.size() == s->request.size() && other->client_id > s->client_id));
    }
  }
  if (!largest && buffered > options_.max_connection_buffer) {
    return false;
  }
  // And the message under way reserves its whole length from the process's budget: beyond
  // what the budget holds, large messages wait at their windows (and the stall timeout ends
  // those whose senders stopped, giving their reservations back).
  if (s->reserved.bytes() > 0) {
    return true;
  }
  absl::StatusOr<std::optional<frontdoor::MessageHead>> head =
      frontdoor::ReadPrefix(absl::string_view(s->request.data).substr(s->request.offset));
  if (!head.ok() || !head->has_value()) {
    return true;  // RunLocal ends the call on a bad prefix
  }
  s->budget_held = !s->reserved.Reserve(*budget_, frontdoor::kMessagePrefixBytes + (*head)->length);
  return !s->budget_held;
}

void H2Relay::Loop::TakeRequest(Stream* s, size_t length) {
  s->reserved.Release();  // the message is whole: its bytes are the call's now
  Pipe& in = s->request;
  in.offset += 5 + length;
  if (in.offset == in.data.size()) {
    in.data.clear();
    in.offset = 0;
  } else if (in.offset > in.data.size() / 2) {
    in.data.erase(0, in.offset);  // a part of the next message stays
    in.offset = 0;
  }
}

void H2Relay::Loop::Respond(Stream* s) {
  if (s->response.size() == 0) {
    return;
  }
  if (!s->responded) {
    std::vector<Header> headers = {{":status", "200"}, {"content-type", "application/grpc"}};
    std::vector<nghttp2_nv> nv = NameValues(headers);
    nghttp2_data_provider provider{};
    provider.source.ptr = s;
    provider.read_callback = &ReadResponseCallback;
    nghttp2_submit_response(s->client->session(), s->client_id, nv.data(), nv.size(), &provider);
    s->responded = true;
  } else {
    nghttp2_session_resume_data(s->client->session(), s->client_id);
  }
  MarkDirty(s->client);
}

void H2Relay::Loop::Deliver(LocalResult result) {
  const bool pushed = result.pushed;
  bool first;
  {
    std::lock_guard lock(inbox_mu_);
    first = results_.empty();  // else the loop has a wake-up coming for them already
    results_.push_back(std::move(result));
  }
  Batch& batch = ThreadBatch();
  if (pushed && batch.depth > 0) {
    if (std::find(batch.loops.begin(), batch.loops.end(), push_inbox_) == batch.loops.end()) {
      batch.loops.push_back(push_inbox_);
    }
    return;
  }
  if (first) {
    WakeForResults();
  }
}

void H2Relay::Loop::WakeForResults() { events_.Wake(); }

H2Relay::PushBatch::PushBatch() { ++Loop::ThreadBatch().depth; }

H2Relay::PushBatch::~PushBatch() {
  Loop::Batch& batch = Loop::ThreadBatch();
  if (--batch.depth > 0) {
    return;
  }
  std::vector<std::shared_ptr<Loop::PushInbox>> loops;
  loops.swap(batch.loops);
  for (const auto& inbox : loops) {
    std::lock_guard lock(inbox->mu);
    if (inbox->loop != nullptr) {
      inbox->loop->WakeForResults();
    }
  }
}

void H2Relay::Loop::ApplyResults(std::vector<LocalResult> results) {
  for (LocalResult& r : results) {
    Stream* s = r.stream;
    if (streams_.count(s) == 0 || s->serial != r.serial || s->local != r.call) {
      continue;  // the call ended while its message was on a worker
    }
    if (r.pushed) {
      ApplyPush(s, r);
      continue;
    }
    s->local_busy = false;
    if (!r.status.ok()) {
      EndResponse(s, r.status);
      continue;
    }
    if (s->response.size() == 0) {
      s->response.data.swap(r.response);
      s->response.offset = 0;
    } else {
      s->response.data.append(r.response);
    }
    Respond(s);
    RunLocal(s);
  }
}

void H2Relay::Loop::Settle() {
  // Writing drains local responses (their calls may go on); going on writes more.
  while (!local_pending_.empty() || !dirty_.empty()) {
    std::vector<Stream*> pending;
    pending.swap(local_pending_);
    for (Stream* s : pending) {
      if (streams_.count(s) != 0 && s->local != nullptr) {
        RunLocal(s);
      }
    }
    FlushDirty();
  }
}

ssize_t H2Relay::Loop::Forward(Pipe& pipe, Conn* source, int32_t source_id, bool source_open,
                               bool end, size_t length, uint32_t* flags) {
  // The bytes are not copied into nghttp2's buffer: Conn::SendData writes the frame, from the
  // pipe to the connection's output, once.
  const size_t n = std::min(length, pipe.size());
  if (n > 0) {
    *flags |= NGHTTP2_DATA_FLAG_NO_COPY;
  }
  if (n > 0 && source_open) {
    nghttp2_session_consume(source->session(), source_id, n);
    MarkDirty(source);
  }
  if (pipe.size() == n) {
    if (end) {
      *flags |= NGHTTP2_DATA_FLAG_EOF;
    } else if (n == 0) {
      return NGHTTP2_ERR_DEFERRED;
    }
  }
  return static_cast<ssize_t>(n);
}

ssize_t H2Relay::Loop::ReadRequest(Stream* s, size_t length, uint32_t* flags) {
  return Forward(s->request, s->client, s->client_id, s->client_open,
                 s->request.eof || !s->client_open, length, flags);
}

void H2Relay::Loop::OnResponseHeaders(Stream* s, bool end_stream) {
  const std::vector<Header>& headers = s->headers;
  if (s->internal) {
    if (end_stream) {  // trailers-only
      FinishCall(s, StatusOfTrailers(headers));
    }
    return;
  }
  if (!s->client_open || s->responded) {
    return;
  }
  if (end_stream) {  // trailers-only: the call's status is in these headers
    Record(s, headers);
  }
  std::vector<nghttp2_nv> nv = NameValues(headers);
  nghttp2_data_provider provider{};
  provider.source.ptr = s;
  provider.read_callback = &ReadResponseCallback;
  nghttp2_submit_response(s->client->session(), s->client_id, nv.data(), nv.size(),
                          end_stream ? nullptr : &provider);
  s->responded = true;
  s->response.eof = end_stream;
  MarkDirty(s->client);
}

void H2Relay::Loop::OnResponseData(Stream* s, const uint8_t* data, size_t size) {
  if (s->internal) {
    // Gathered whole (a unary response), and credited at once: the process reads it all.
    nghttp2_session_consume(s->up->session(), s->up_id, size);
    MarkDirty(s->up);
    if (s->response.size() + size > options_.max_message_bytes + frontdoor::kMessagePrefixBytes) {
      nghttp2_submit_rst_stream(s->up->session(), NGHTTP2_FLAG_NONE, s->up_id, NGHTTP2_CANCEL);
      FinishCall(s, absl::ResourceExhaustedError("the backend's response exceeds the limit"));
      return;
    }
    s->response.data.append(reinterpret_cast<const char*>(data), size);
    return;
  }
  if (!s->client_open || !s->responded || s->response.eof) {
    nghttp2_session_consume(s->up->session(), s->up_id, size);
    MarkDirty(s->up);
    return;
  }
  s->response.data.append(reinterpret_cast<const char*>(data), size);
  nghttp2_session_resume_data(s->client->session(), s->client_id);
  MarkDirty(s->client);
}

void H2Relay::Loop::OnResponseEnd(Stream* s) {
  if (s->internal) {
    FinishCall(s, StatusOfTrailers(s->trailers));
    return;
  }
  if (!s->client_open || !s->responded || s->response.eof) {
    return;
  }
  s->response.eof = true;
  Record(s, s->trailers);
  nghttp2_session_resume_data(s->client->session(), s->client_id);
  MarkDirty(s->client);
}

ssize_t H2Relay::Loop::ReadResponse(Stream* s, size_t length, uint32_t* flags) {
  ssize_t n = Forward(s->response, s->up, s->up_id, s->up_open && s->up != nullptr, s->response.eof,
                      length, flags);
  if (n > 0) {
    s->response_progress = now_;
  }
  if (s->local != nullptr &&
      s->response.size() - static_cast<size_t>(std::max<ssize_t>(n, 0)) < kResponseBacklog) {
    local_pending_.push_back(s);  // its response drained: it may take more of the request
  }
  if ((*flags & NGHTTP2_DATA_FLAG_EOF) != 0 && !s->trailers.empty()) {
    *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
    std::vector<nghttp2_nv> nv = NameValues(s->trailers);
    nghttp2_submit_trailer(s->client->session(), s->client_id, nv.data(), nv.size());
  }
  return n;
}

// A call ends here, before or instead of a backend's answer: trailers-only when nothing was
// sent yet, else trailers after the data already relayed.
void H2Relay::Loop::EndResponse(Stream* s, const absl::Status& status) {
  if (!s->client_open) {
    return;
  }
  grpc::Status g = ToGrpcStatus(status);
  std::vector<Header> trailers = {{"grpc-status", absl::StrCat(g.error_code())},
                                  {"grpc-message", PercentEncode(g.error_message())}};
  if (!g.error_details().empty()) {
    trailers.emplace_back("grpc-status-details-bin", absl::Base64Escape(g.error_details()));
  }
  Record(s, g.error_code(), g.error_message());
  s->ticket.reset();
  if (s->local != nullptr) {
    s->local.reset();
    s->up_open = false;
    if (s->local_owed > 0) {  // what the call will not read: its window comes back
      nghttp2_session_consume_stream(s->client->session(), s->client_id, s->local_owed);
      s->local_owed = 0;
    }
    release_.Freed(s->request.data.capacity());
    s->request = Pipe();
  }
  if (!s->responded) {
    std::vector<Header> headers = {{":status", "200"}, {"content-type", "application/grpc"}};
    headers.insert(headers.end(), trailers.begin(), trailers.end());
    std::vector<nghttp2_nv> nv = NameValues(headers);
    nghttp2_submit_response(s->client->session(), s->client_id, nv.data(), nv.size(), nullptr);
    s->responded = true;
    s->response.eof = true;
  } else if (!s->response.eof) {
    s->trailers = std::move(trailers);
    s->response.eof = true;
    nghttp2_session_resume_data(s->client->session(), s->client_id);
  }
  MarkDirty(s->client);
}

void H2Relay::Loop::Reject(Stream* s, const absl::Status& status) {
  if (s->route != nullptr) {
    // Admit counted its own refusals; count the others (no backend, limits) here.
    if (status.code() == absl::StatusCode::kUnavailable) {
      routes_.CountRejected("backend_unavailable");
    }
  }
  EndResponse(s, status);
}

void H2Relay::Loop::OnClientStreamClosed(Stream* s, uint32_t /*error_code*/) {
  s->client_open = false;
  if (s->client != nullptr) {
    s->client->streams.erase(s);
    s->client->last_active = Now();
    // Bytes still waiting for the backend (or a local call) are credited to the connection's
    // window now: ReadRequest credits only streams that are open.
    // (A local call's bytes were credited to the connection as they came.)
    const size_t owed = s->local != nullptr ? 0 : s->request.size();
    if (owed > 0) {
      nghttp2_session_consume_connection(s->client->session(), owed);
      MarkDirty(s->client);
    }
  }
  if (s->local != nullptr) {
    s->local.reset();  // the caller cancelled
    s->up_open = false;
  } else if (s->up_open) {
    // The caller cancelled (or the call is over on this side): the backend stops too.
    nghttp2_submit_rst_stream(s->up->session(), NGHTTP2_FLAG_NONE, s->up_id, NGHTTP2_CANCEL);
    MarkDirty(s->up);
  }
  MaybeFree(s);
}

void H2Relay::Loop::OnUpstreamStreamClosed(Stream* s, uint32_t error_code) {
  s->up_open = false;
  if (s->up != nullptr) {
    s->up->streams.erase(s);
    // As for requests in OnClientStreamClosed: the connection's window gets the bytes back.
    if (s->response.size() > 0) {
      nghttp2_session_consume_connection(s->up->session(), s->response.size());
      MarkDirty(s->up);
    }
  }
  s->up = nullptr;
  FinishCall(s, error_code == NGHTTP2_REFUSED_STREAM
                    ? absl::UnavailableError("the backend refused the call")
                    : absl::UnavailableError("the backend ended the call"));
  if (s->client_open && !s->response.eof) {
    EndResponse(s,
                error_code == NGHTTP2_REFUSED_STREAM
                    ? absl::UnavailableError("the backend refused the call")
                    : absl::InternalError(absl::StrCat("the backend ended the call (HTTP/2 "
                                                       "error ",
                                                       nghttp2_http2_strerror(error_code), ")")));
  }
  MaybeFree(s);
}

void H2Relay::Loop::MaybeFree(Stream* s) {
  if (!s->client_open && !s->up_open) {
    // A call of the process's always hears its end, whatever ended it.
    FinishCall(s, absl::UnavailableError("the call ended without an answer"));
    release_.Freed(s->request.data.capacity() + s->response.data.capacity());
    streams_.erase(s);
  }
}

Upstream* H2Relay::Loop::Pick(int target) {
  std::vector<Upstream*>& pool = upstreams_[target];
  for (size_t i = 0; i < pool.size(); ++i) {
    Upstream* up = pool[(next_[target] + i) % pool.size()];
    if (up->Usable()) {
      next_[target] = (next_[target] + i + 1) % pool.size();
      return up;
    }
  }
  // No connection is open or being made: this call makes one, whatever the last attempt did,
  // and the calls that come while it is made wait on it (it is usable while connecting). So
  // no call fails without an attempt of its own or of the calls beside it, and a backend that
  // is back (a registry restart) is used by the next call on every loop. A backend still down
  // costs one refused connection per call that finds no attempt under way. Every address the
  // name had at its last resolution gets one connection; the resolver looks again for the
  // next time.
  for (const sockaddr_storage& address : addresses_[target]) {
    Connect(target, address);
  }
  RequestResolve();
  // A connection just made (the others may all be full: more calls at once than the backend
  // takes on one connection).
  for (auto it = pool.rbegin(); it != pool.rend(); ++it) {
    if ((*it)->Usable()) {
      return *it;
    }
  }
  return nullptr;
}

void H2Relay::Loop::Connect(int target, const sockaddr_storage& address) {
  int fd = socket(address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return;
  }
  NoDelay(fd);
  if (connect(fd, reinterpret_cast<const sockaddr*>(&address), AddressLength(address)) != 0 &&
      errno != EINPROGRESS) {
    close(fd);
    return;
  }
  auto owned = std::make_unique<Upstream>(this, fd, target, address);
  Upstream* up = owned.get();
  if (client_tls_ != nullptr && target != internal_) {
    absl::StatusOr<HostPort> host = ParseHostPort(target_address_[target]);
    up->UseTls(client_tls_->NewConnection(fd, host.ok() ? host->host : ""));
  }
  up->events = EPOLLIN | EPOLLOUT;
  events_.Add(fd, up->events, [this, up](uint32_t events) { OnEvents(up, events); });
  conns_.emplace(up, std::move(owned));
  upstreams_[target].push_back(up);
}

void H2Relay::Loop::RequestResolve() {
  std::lock_guard lock(resolve_mu_);
  resolve_now_ = true;
  resolve_cv_.notify_one();
}

// The resolver's thread: the backends' names every 30 s, or sooner when asked. DNS may be
// slow; the loop never waits for it.
void H2Relay::Loop::ResolveLoop() {
  std::unique_lock lock(resolve_mu_);
  while (!resolver_stopping_) {
    resolve_cv_.wait_for(lock, std::chrono::seconds(30),
                         [this] { return resolve_now_ || resolver_stopping_; });
    if (resolver_stopping_) {
      return;
    }
    resolve_now_ = false;
    lock.unlock();
    std::vector<std::vector<sockaddr_storage>> found(internal_);
    for (int t = 0; t < internal_; ++t) {
      found[t] = Resolve(target_address_[t], false);
    }
    lock.lock();
    for (int t = 0; t < internal_; ++t) {
      if (!found[t].empty()) {  // a failed lookup keeps the addresses known
        resolved_[t] = std::move(found[t]);
      }
    }
    events_.Wake();
    // At most one lookup a second, however often a failing backend asks.
    lock.unlock();
    std::this_thread::sleep_for(std::chrono::seconds(1));
    lock.lock();
  }
}

// New addresses from the resolver: in use for the next connections, and connected now for a
// backend in use, so that calls spread over replicas added since.
void H2Relay::Loop::ApplyResolved() {
  std::vector<std::vector<sockaddr_storage>> found(resolved_.size());
  {
    std::lock_guard lock(resolve_mu_);
    for (size_t t = 0; t < found.size(); ++t) {
      found[t] = std::move(resolved_[t]);
      resolved_[t].clear();
    }
  }
  for (size_t t = 0; t < found.size(); ++t) {
    if (found[t].empty()) {
      continue;
    }
    addresses_[t] = std::move(found[t]);
    if (upstreams_[t].empty()) {
      continue;
    }
    for (const sockaddr_storage& address : addresses_[t]) {
      bool known = std::any_of(upstreams_[t].begin(), upstreams_[t].end(), [&](Upstream* up) {
        return std::memcmp(&up->address, &address, AddressLength(address)) == 0;
      });
      if (!known) {
        Connect(static_cast<int>(t), address);
      }
    }
  }
}

void H2Relay::Loop::FailUpstream(Upstream* up, const std::string& why) {
  if (!up->ready && Now() - failure_logged_[up->target] >= kFailureLogInterval) {
    failure_logged_[up->target] = Now();
    Log(LogLevel::kWarning, "backend connection failed",
        {{"backend", TargetName(up->target)},
         {"address", target_address_[up->target]},
         {"error", why}});
  }
  up->Kill();
  std::vector<Stream*> streams(up->streams.begin(), up->streams.end());
  up->streams.clear();
  for (Stream* s : streams) {
    s->up_open = false;
    s->up = nullptr;
    const absl::Status lost = absl::UnavailableError(
        absl::StrCat("lost the connection to backend ", TargetName(up->target), ": ", why));
    FinishCall(s, lost);
    if (s->client_open && !s->response.eof) {
      EndResponse(s, lost);
    }
    MaybeFree(s);
  }
  auto& pool = upstreams_[up->target];
  pool.erase(std::remove(pool.begin(), pool.end(), up), pool.end());
}

void H2Relay::Loop::CloseClient(ClientConn* c) {
  c->Kill();
  std::vector<Stream*> streams(c->streams.begin(), c->streams.end());
  c->streams.clear();
  for (Stream* s : streams) {
    s->client = nullptr;
    OnClientStreamClosed(s);
  }
}

void H2Relay::Loop::Give(int fd, std::string peer) {
  {
    std::lock_guard lock(inbox_mu_);
    inbox_.emplace_back(fd, std::move(peer));
  }
  events_.Wake();
}

void H2Relay::Loop::Adopt(int fd, std::string peer) {
  auto owned = std::make_unique<ClientConn>(this, fd, limits_, std::move(peer));
  ClientConn* c = owned.get();
  if (server_tls_ != nullptr) {
    // Renewed files are looked for at every new connection (a stat of each, far below the
    // handshake's cost), so that every loop serves them from the same moment on.
    server_tls_->ReloadIfChanged();
    c->UseTls(server_tls_->NewConnection(fd, ""));
  }
  c->events = EPOLLIN;
  events_.Add(fd, c->events, [this, c](uint32_t events) { OnEvents(c, events); });
  conns_.emplace(c, std::move(owned));
  MarkDirty(c);
}

void H2Relay::Loop::FlushDirty() {
  // Flushing one connection can make others dirty (window updates): loop until quiet.
  while (!dirty_.empty()) {
    std::vector<Conn*> batch;
    batch.swap(dirty_);
    for (Conn* c : batch) {
      c->dirty = false;
      if (c->dead() || !c->ready) {
        continue;  // a backend connection still connecting writes once connected
      }
      bool blocked = false;
      if (!c->Flush(&blocked)) {
        if (c->upstream()) {
          FailUpstream(static_cast<Upstream*>(c), "connection closed");
        } else {
          CloseClient(static_cast<ClientConn*>(c));
        }
        continue;
      }
      Interest(c, EPOLLIN | (blocked ? static_cast<uint32_t>(EPOLLOUT) : 0u));
    }
  }
}

void H2Relay::Loop::Interest(Conn* c, uint32_t events) {
  if (events != c->events) {
    events_.Modify(c->fd(), events);
    c->events = events;
  }
}

void H2Relay::Loop::CloseDead() {
  CloseWhere([](const Conn& c) { return c.dead(); });
}

void H2Relay::Loop::CloseWhere(const std::function<bool(const Conn&)>& which) {
  for (auto it = conns_.begin(); it != conns_.end();) {
    if (which(*it->first)) {
      events_.Remove(it->first->fd());
      it = conns_.erase(it);
    } else {
      ++it;
    }
  }
}

void H2Relay::Loop::Cancel(Stream* s, const absl::Status& status) {
  if (s->up_open && s->up != nullptr) {
    nghttp2_submit_rst_stream(s->up->session(), NGHTTP2_FLAG_NONE, s->up_id, NGHTTP2_CANCEL);
    MarkDirty(s->up);
  }
  EndResponse(s, status);
}

void H2Relay::Loop::Sweep(absl::Time now) {
  if (now - tls_checked_ > absl::Seconds(10)) {
    tls_checked_ = now;
    for (RelayTls* tls : {server_tls_.get(), client_tls_.get()}) {
      if (tls != nullptr) {
        tls->ReloadIfChanged();
      }
    }
  }
  // Deadlines hold until the caller has the last byte: a call past its deadline whose
  // response is not all taken yet is reset. So are calls that stall (stall_timeout).
  std::vector<std::pair<Stream*, absl::Status>> ended;
  std::vector<Stream*> reset;
  std::unordered_set<ClientConn*> trickling;  // a header block not whole in header_timeout
  std::vector<Stream*> late_calls;
  for (const auto& [s, owned] : streams_) {
    if (s->internal && s->deadline < now) {
      late_calls.push_back(s);
      continue;
    }
    if (!s->client_open || s->reset) {
      continue;
    }
    if (!s->headers_whole && now - s->opened > options_.header_timeout) {
      trickling.insert(s->client);
      continue;
    }
    if (s->response.size() == 0) {
      s->response_progress = now;  // nothing waits on the caller
    }
    if (s->local_owed > 0 && s->local != nullptr && !s->local_busy) {
      local_pending_.push_back(s);  // credit held back (MayCredit): try again
    }
    if (s->deadline < now) {
      if (s->response.eof) {
        reset.push_back(s);
      } else {
        ended.emplace_back(s, absl::DeadlineExceededError("deadline exceeded"));
      }
    } else if (now - s->response_progress > options_.stall_timeout) {
      reset.push_back(s);  // the caller has not read for that long
    } else if (s->response.eof && s->response.size() == 0 && !s->request.eof &&
               now - s->request_progress > options_.stall_timeout) {
      reset.push_back(s);  // answered, and the caller neither sends nor ends its side
    } else if (s->framing.partial_bytes() > 0 && !s->request.eof && !s->response.eof &&
               !s->budget_held &&
               now - (s->local_owed == 0 ? s->request_progress : s->client->request_progress) >
                   options_.stall_timeout) {
      // A call whose bytes the front end holds back (local_owed) waits on the connection's
      // other calls: it stalls only when the whole connection does. One waiting for the
      // process's budget waits on calls that either complete or stall themselves.
      ended.emplace_back(
          s, ErrorWithReason(absl::StatusCode::kResourceExhausted, "REQUEST_STALLED",
                             absl::StrCat("the request stopped inside a message for ",
                                          absl::FormatDuration(options_.stall_timeout))));
    }
  }
  for (auto& [s, status] : ended) {
    Cancel(s, status);
    if (s->local == nullptr && s->up == nullptr) {
      release_.Freed(s->request.data.capacity());
      s->request = Pipe();  // what the caller sent of it is no longer needed
    }
  }
  for (Stream* s : reset) {
    s->reset = true;
    nghttp2_submit_rst_stream(s->client->session(), NGHTTP2_FLAG_NONE, s->client_id,
                              NGHTTP2_CANCEL);
    MarkDirty(s->client);
    if (s->up_open && s->up != nullptr) {
      nghttp2_submit_rst_stream(s->up->session(), NGHTTP2_FLAG_NONE, s->up_id, NGHTTP2_CANCEL);
      MarkDirty(s->up);
    }
  }
  for (Stream* s : late_calls) {
    if (s->up_open && s->up != nullptr) {
      nghttp2_submit_rst_stream(s->up->session(), NGHTTP2_FLAG_NONE, s->up_id, NGHTTP2_CANCEL);
      MarkDirty(s->up);
    }
    FinishCall(s, absl::DeadlineExceededError("deadline exceeded"));
    MaybeFree(s);
  }
  for (ClientConn* c : trickling) {
    Log(LogLevel::kInfo, "closing a connection whose request headers did not end in time",
        {{"timeout", absl::FormatDuration(options_.header_timeout)}});
    CloseClient(c);
  }
  for (const auto& [c, owned] : conns_) {
    if (c->dead()) {
      continue;
    }
    if (c->upstream()) {
      auto* up = static_cast<Upstream*>(c);
      if (up->heard_recently) {
        up->heard_recently = false;
        up->heard = now;
        up->ping_sent = absl::InfinitePast();  // anything heard answers the ping
      }
      if (!up->ready && now - up->started > options_.connect_timeout) {
        FailUpstream(up, "connect timed out");
      } else if (up->ready && up->ping_sent != absl::InfinitePast() &&
                 now - up->ping_sent > options_.keepalive_timeout) {
        FailUpstream(up, "no answer to a keepalive PING");
      } else if (up->ready && up->ping_sent == absl::InfinitePast() &&
                 now - up->heard > options_.keepalive_time) {
        // A backend gone without a word (a node lost) is found before calls wait on it.
        nghttp2_submit_ping(up->session(), NGHTTP2_FLAG_NONE, nullptr);
        up->ping_sent = now;
        MarkDirty(up);
      } else if (up->going_away && up->streams.empty()) {
        up->Kill();
        auto& pool = upstreams_[up->target];
        pool.erase(std::remove(pool.begin(), pool.end(), up), pool.end());
      }
      continue;
    }
    auto* client = static_cast<ClientConn*>(c);
    if ((!client->greeted && now - client->opened > options_.handshake_timeout) ||
        (!client->called && now - client->opened > options_.first_call_timeout) ||
        (client->streams.empty() && now - client->last_active > options_.idle_timeout)) {
      // GOAWAY first: a client whose call crosses the close learns that the server took none
      // of its streams, and retries the call on a new connection.
      if (client->ready) {
        nghttp2_submit_goaway(client->session(), NGHTTP2_FLAG_NONE,
                              nghttp2_session_get_last_proc_stream_id(client->session()),
                              NGHTTP2_NO_ERROR, nullptr, 0);
        bool blocked = false;
        client->Flush(&blocked);
      }
      CloseClient(client);
    }
  }
}

void H2Relay::Loop::GiveCall(InternalCall call) {
  if (events_.OnLoopThread() && !stopping_.load()) {
    // Started at the end of this turn, without a wake-up.
    events_.Post([this, call = std::move(call)]() mutable { StartCall(std::move(call)); });
    return;
  }
  {
    std::lock_guard lock(inbox_mu_);
    if (!stopping_.load()) {
      calls_.push_back(std::move(call));
      call.done = nullptr;
    }
  }
  if (call.done) {
    call.done(absl::UnavailableError("the server is shutting down"), "");
    return;
  }
  events_.Wake();
}

void H2Relay::Loop::StartCall(InternalCall call) {
  if (stopping_.load()) {
    call.done(absl::UnavailableError("the server is shutting down"), "");
    return;
  }
  if (call.token->cancelled) {
    call.done(absl::CancelledError("the caller left"), "");
    return;
  }
  auto owned = std::make_unique<Stream>(options_.max_message_bytes);
  Stream* s = owned.get();
  streams_.emplace(s, std::move(owned));
  s->serial = ++next_serial_;
  s->client_open = false;  // no client: nothing is written to one
  s->internal = std::move(call.done);
  s->token = std::move(call.token);
  s->token->stream = s;
  s->target = call.backend;
  s->started = s->opened = now_;
  s->deadline = call.deadline;
  s->request.data = std::move(call.request);
  s->request.eof = true;
  std::vector<Header> headers = BackendRequestHeaders(s, call.path, "application/grpc");
  for (Header& h : call.headers) {
    headers.push_back(std::move(h));
  }
  if (absl::Status opened = OpenUpstream(s, headers); !opened.ok()) {
    FinishCall(s, opened);
    MaybeFree(s);
  }
}

void H2Relay::Loop::FinishCall(Stream* s, const absl::Status& status) {
  if (!s->internal) {
    return;
  }
  H2Relay::CallDone done = std::move(s->internal);
  s->internal = nullptr;
  if (s->token != nullptr) {
    s->token->stream = nullptr;
    s->token.reset();
  }
  std::string response = std::move(s->response.data);
  s->response = Pipe();
  done(status, std::move(response));
}

void H2Relay::Loop::CancelCall(const std::shared_ptr<H2Relay::CallToken>& token) {
  auto* s = static_cast<Stream*>(token->stream);
  if (s == nullptr) {
    token->cancelled = true;  // not started yet, or already over
    return;
  }
  if (s->up_open && s->up != nullptr) {
    nghttp2_submit_rst_stream(s->up->session(), NGHTTP2_FLAG_NONE, s->up_id, NGHTTP2_CANCEL);
    MarkDirty(s->up);
  }
  FinishCall(s, absl::CancelledError("the caller left"));
  MaybeFree(s);
}

void H2Relay::Loop::OnWake() {
  ApplyResolved();
  std::vector<std::pair<int, std::string>> given;
  std::vector<LocalResult> results;
  std::vector<InternalCall> calls;
  {
    std::lock_guard lock(inbox_mu_);
    given.swap(inbox_);
    results.swap(results_);
    calls.swap(calls_);
  }
  ApplyResults(std::move(results));
  for (InternalCall& call : calls) {
    StartCall(std::move(call));
  }
  for (auto& [fd, peer] : given) {
    if (stopping_.load()) {
      close(fd);
      limits_->Remove(peer);
    } else {
      Adopt(fd, std::move(peer));
    }
  }
}

void H2Relay::Loop::OnEvents(Conn* c, uint32_t events) {
  if (c->dead()) {
    return;
  }
  if (!c->connected) {
    if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
      return;
    }
    int error = 0;
    socklen_t length = sizeof error;
    getsockopt(c->fd(), SOL_SOCKET, SO_ERROR, &error, &length);
    if (error != 0) {
      FailUpstream(static_cast<Upstream*>(c), std::strerror(error));
      return;
    }
    c->connected = true;  // the preface and queued requests go out now (after TLS)
    c->ready = !c->handshaking();
  }
  if (c->handshaking()) {
    bool want_write = false;
    std::string error;
    int r = c->Handshake(&want_write, &error);
    if (r < 0) {
      if (c->upstream()) {
        FailUpstream(static_cast<Upstream*>(c), "TLS: " + error);
      } else {
        Log(LogLevel::kInfo, "TLS handshake with a client failed", {{"error", error}});
        CloseClient(static_cast<ClientConn*>(c));
      }
      return;
    }
    if (r == 0) {
      Interest(c, EPOLLIN | (want_write ? static_cast<uint32_t>(EPOLLOUT) : 0u));
      return;
    }
    events |= EPOLLIN;  // records may have come with the handshake's last flight
  }
  if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
    if (!c->ReadSome()) {
      if (c->upstream()) {
        FailUpstream(static_cast<Upstream*>(c), "connection closed");
      } else {
        CloseClient(static_cast<ClientConn*>(c));
      }
      return;
    }
  }
  MarkDirty(c);
}

void H2Relay::Loop::EndTurn() {
  Settle();
  const absl::Time now = Now();
  if (now - last_sweep_ >= absl::Milliseconds(100)) {
    last_sweep_ = now;
    if (acceptor_ != nullptr && !stopping_.load()) {
      acceptor_->Resume();  // after a pause at the descriptor limit
    }
    Sweep(now);
    release_.MaybeRelease(now);
    Settle();
  }
  if (stopping_.load() && !draining_) {
    draining_ = true;
    drain_until_ = now + absl::Nanoseconds(grace_ns_.load());
    if (acceptor_ != nullptr) {
      acceptor_->Stop();
    }
    for (const auto& [c, owned] : conns_) {
      if (!c->upstream()) {
        nghttp2_submit_goaway(c->session(), NGHTTP2_FLAG_NONE,
                              nghttp2_session_get_last_proc_stream_id(c->session()),
                              NGHTTP2_NO_ERROR, nullptr, 0);
        MarkDirty(c);
      }
    }
    // Watches are not calls in flight: they end now, and their clients resume elsewhere.
    std::vector<Stream*> watches;
    for (const auto& [s, owned] : streams_) {
      if (s->watch && s->client_open && !s->response.eof) {
        watches.push_back(s);
      }
    }
    for (Stream* s : watches) {
      Cancel(s, absl::UnavailableError("the server is shutting down; resume the watch"));
    }
    Settle();
    FlushDirty();
  }
  CloseDead();
  if (draining_ && (streams_.empty() || now >= drain_until_)) {
    Finish();
    events_.Stop();  // the loop ends after this turn
  }
}

void H2Relay::Loop::Finish() {
  for (const auto& [s, owned] : streams_) {
    FinishCall(s, absl::UnavailableError("the server is shutting down"));
  }
  for (const auto& [c, owned] : conns_) {
    if (!c->upstream()) {
      CloseClient(static_cast<ClientConn*>(c));
    }
  }
  FlushDirty();
  // Backend connections close too, so that a backend draining at the same time (the server's
  // own gRPC server, behind a front end) does not wait for them until its deadline.
  CloseWhere([](const Conn& c) { return c.upstream(); });
}

H2Relay::H2Relay(RelayRoutes& routes, RelayOptions options, RpcMetrics* rpc_metrics)
    : limits_(std::make_unique<frontdoor::ConnectionLimits>(frontdoor::ConnectionLimitOptions{
          options.max_connections, options.max_connections_per_address})),
      budget_(std::make_unique<frontdoor::BufferBudget>(options.max_process_buffer)) {
  frontdoor::RaiseDescriptorLimit();
  if (options.workers > 0) {
    workers_ = std::make_unique<Workers>(options.workers);
  }
  const int threads = std::max(1, options.threads);
  for (int i = 0; i < threads; ++i) {
    loops_.push_back(std::make_unique<Loop>(routes, options, rpc_metrics, workers_.get(),
                                            limits_.get(), budget_.get()));
  }
}

std::vector<frontdoor::EventLoop*> H2Relay::event_loops() const {
  std::vector<frontdoor::EventLoop*> loops;
  for (const auto& loop : loops_) {
    loops.push_back(&loop->events());
  }
  return loops;
}

H2Relay::CallCancel H2Relay::Call(int backend, std::string path, std::vector<RelayHeader> headers,
                                  std::string request, absl::Time deadline, CallDone done) {
  // From one of the loops (an HTTP/1.1 connection served on it): that loop's connections.
  Loop* loop = nullptr;
  for (const auto& l : loops_) {
    if (l->events().OnLoopThread()) {
      loop = l.get();
    }
  }
  if (loop == nullptr) {
    loop = loops_[next_call_loop_.fetch_add(1, std::memory_order_relaxed) % loops_.size()].get();
  }
  auto token = std::make_shared<CallToken>();
  loop->GiveCall(Loop::InternalCall{backend, std::move(path), std::move(headers),
                                    std::move(request), deadline, std::move(done), token});
  return [loop, token] { loop->events().Post([loop, token] { loop->CancelCall(token); }); };
}

H2Relay::~H2Relay() {
  Shutdown(absl::ZeroDuration());
  workers_.reset();  // their last results go to loops that still exist
}

absl::Status H2Relay::Listen() {
  for (size_t i = 0; i < loops_.size(); ++i) {
    if (absl::Status s = loops_[i]->Listen(i == 0); !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

void H2Relay::Start(const std::string& internal) {
  std::vector<Loop*> loops;
  for (const auto& loop : loops_) {
    loops.push_back(loop.get());
  }
  for (const auto& loop : loops_) {
    loop->Start(internal, loops);
  }
}

int H2Relay::port() const { return loops_[0]->port(); }

void H2Relay::Shutdown(absl::Duration grace) {
  for (const auto& loop : loops_) {
    loop->Stop(grace);
  }
  for (const auto& loop : loops_) {
    loop->Join();
  }
}

}  // namespace accord
