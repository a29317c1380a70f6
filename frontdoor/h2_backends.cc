#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

#include "common/host_port.h"
#include "common/log.h"
#include "frontdoor/h2_relay.h"
#include "frontdoor/h2_relay_loop.h"
#include "frontdoor/relay_tls.h"
#include "frontdoor/sockets.h"
#include <nghttp2/nghttp2.h>

// The backend pool (h2_relay_loop.h): connections made per call when none is usable, names
// resolved off the loop, failures ended on every call they carry; and the calls the process
// makes itself (H2Relay::Call).
namespace accord {

using frontdoor::AddressLength;
using frontdoor::NoDelay;
using frontdoor::Resolve;
using h2relay::ClientConn;
using h2relay::Conn;
using h2relay::Header;
using h2relay::kFailureLogInterval;
using h2relay::Pipe;
using h2relay::ReadRequestCallback;
using h2relay::Stream;
using h2relay::Upstream;

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

}  // namespace accord
