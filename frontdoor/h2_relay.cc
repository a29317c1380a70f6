#include "frontdoor/h2_relay.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <functional>
#include <mutex>
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
#include "frontdoor/h2_relay_loop.h"
#include "frontdoor/memory.h"
#include "frontdoor/relay_tls.h"
#include "frontdoor/sockets.h"
#include <nghttp2/nghttp2.h>

// The relay's event loop (h2_relay_loop.h): client streams read and relayed to backends (or
// handed to local calls, h2_local_calls.cc), responses relayed back, the sweep of timeouts and
// the drain; and H2Relay's own methods.
namespace accord {
namespace h2relay {

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

namespace {

// Values new with every call: HPACK would only churn its table with them.
bool OncePerCall(absl::string_view name) {
  return name == "grpc-timeout" || name == "x-request-id" || name == "traceparent";
}

}  // namespace

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

}  // namespace h2relay

using frontdoor::Resolve;
using h2relay::ClientConn;
using h2relay::Conn;
using h2relay::DeadlineFromTimeout;
using h2relay::Header;
using h2relay::kResponseBacklog;
using h2relay::NameValues;
using h2relay::PercentEncode;
using h2relay::Pipe;
using h2relay::ReadRequestCallback;
using h2relay::ReadResponseCallback;
using h2relay::StatusOfTrailers;
using h2relay::Stream;
using h2relay::TimeoutValue;
using h2relay::Upstream;

namespace {

const Clock& SystemTime() {
  static const SystemClock clock;
  return clock;
}

}  // namespace

H2Relay::Loop::Loop(RelayRoutes& routes, const RelayOptions& options, RpcMetrics* rpc_metrics,
                    Workers* workers, frontdoor::ConnectionLimits* limits,
                    frontdoor::BufferBudget* budget, const h2relay::HttpSide* http)
    : routes_(routes),
      options_(options),
      clock_(options.clock != nullptr ? options.clock : &SystemTime()),
      internal_(static_cast<int>(options.backends.size())),
      rpc_metrics_(rpc_metrics),
      workers_(workers),
      limits_(limits),
      budget_(budget),
      http_(http) {
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
  for (const Given& given : inbox_) {
    close(given.fd);
    limits_->Remove(given.peer);
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
    if (http_->handler.load(std::memory_order_acquire) != nullptr) {
      BeginHttp(s);  // HTTP/JSON over HTTP/2 (h2_http_exchange.cc)
      return;
    }
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
  if (s->http) {
    OnHttpData(s, data, size);
    return;
  }
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
  if (s->http) {  // not a gRPC call: no trailers
    if (!s->responded) {
      RefuseHttp(s, 503, status.message());
    } else {
      HttpEnd(s);
    }
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
    const size_t owed = s->local != nullptr || s->http ? 0 : s->request.size();
    if (owed > 0) {
      nghttp2_session_consume_connection(s->client->session(), owed);
      MarkDirty(s->client);
    }
  }
  EndHttp(s);
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

void H2Relay::Loop::CloseClient(ClientConn* c) {
  c->Kill();
  std::vector<Stream*> streams(c->streams.begin(), c->streams.end());
  c->streams.clear();
  for (Stream* s : streams) {
    s->client = nullptr;
    OnClientStreamClosed(s);
  }
}

void H2Relay::Loop::Give(int fd, std::string peer, std::string read) {
  {
    std::lock_guard lock(inbox_mu_);
    inbox_.push_back({fd, std::move(peer), std::move(read)});
  }
  events_.Wake();
}

void H2Relay::Loop::Adopt(int fd, std::string peer, std::string read) {
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
  if (!read.empty() &&
      nghttp2_session_mem_recv(c->session(), reinterpret_cast<const uint8_t*>(read.data()),
                               read.size()) < 0) {
    CloseClient(c);
    return;
  }
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
  std::vector<Stream*> late_http;  // an HTTP request whose body stopped arriving
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
    if (s->http_request != nullptr && now - s->request_progress > options_.stall_timeout) {
      late_http.push_back(s);
    } else if (s->deadline < now) {
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
  for (Stream* s : late_http) {
    RefuseHttp(s, 408,
               absl::StrCat("the request body stopped arriving for ",
                            absl::FormatDuration(options_.stall_timeout)));
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

void H2Relay::Loop::OnWake() {
  ApplyResolved();
  std::vector<Given> given;
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
  for (Given& g : given) {
    if (stopping_.load()) {
      close(g.fd);
      limits_->Remove(g.peer);
    } else {
      Adopt(g.fd, std::move(g.peer), std::move(g.read));
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
    InterruptHttpStreams();  // so are HTTP streams (an HTTP watch): their handlers end them
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
      budget_(std::make_unique<frontdoor::BufferBudget>(options.max_process_buffer)),
      http_(std::make_unique<h2relay::HttpSide>()) {
  frontdoor::RaiseDescriptorLimit();
  if (options.workers > 0) {
    workers_ = std::make_unique<Workers>(options.workers);
  }
  const int threads = std::max(1, options.threads);
  for (int i = 0; i < threads; ++i) {
    loops_.push_back(std::make_unique<Loop>(routes, options, rpc_metrics, workers_.get(),
                                            limits_.get(), budget_.get(), http_.get()));
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
  Loop* loop = PickLoop();
  auto token = std::make_shared<CallToken>();
  loop->GiveCall(Loop::InternalCall{backend, std::move(path), std::move(headers),
                                    std::move(request), deadline, std::move(done), token});
  return [loop, token] { loop->events().Post([loop, token] { loop->CancelCall(token); }); };
}

H2Relay::Loop* H2Relay::PickLoop() {
  for (const auto& l : loops_) {
    if (l->events().OnLoopThread()) {
      return l.get();
    }
  }
  return loops_[next_call_loop_.fetch_add(1, std::memory_order_relaxed) % loops_.size()].get();
}

void H2Relay::Serve(int fd, std::string peer, std::string read) {
  std::string why;
  if (!limits_->TryAdd(peer, &why)) {
    close(fd);
    return;
  }
  PickLoop()->Give(fd, std::move(peer), std::move(read));
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
