#include "frontdoor/http1_server.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include "absl/strings/str_cat.h"

#include "common/log.h"
#include "frontdoor/acceptor.h"
#include "frontdoor/connection_limits.h"
#include "frontdoor/event_loop.h"
#include "frontdoor/memory.h"
#include "frontdoor/sockets.h"

namespace accord::frontdoor {
namespace {

constexpr size_t kReadChunk = 64 * 1024;
// An output buffer larger than this is freed once written, not kept for the next response.
constexpr size_t kKeptBuffer = 64 * 1024;
constexpr absl::Duration kTick = absl::Milliseconds(100);

class Exchange;

struct Conn {
  Conn(int fd, std::string peer, Http1Limits limits, absl::Time now)
      : fd(fd), peer(std::move(peer)), decoder(limits), opened(now), last_active(now) {}

  const int fd;
  const std::string peer;
  Http1Decoder decoder;
  std::deque<Http1Request> pending;   // read ahead of the request being answered
  std::optional<Http1Error> refused;  // answered after `pending`, then the connection closes
  std::shared_ptr<Exchange> active;   // the request being answered
  bool keep_alive = true;             // of the active request
  bool head = false;                  // the active request is a HEAD: no body is sent
  std::string out;                    // response bytes not yet written
  size_t out_sent = 0;
  bool reading = true;                         // wants EPOLLIN
  uint32_t registered = EPOLLIN | EPOLLRDHUP;  // what epoll watches for now
  bool close_after_write = false;
  bool closed = false;
  int served = 0;
  absl::Time opened;
  absl::Time last_active;                             // a request ended or began
  absl::Time request_began = absl::InfiniteFuture();  // the first byte of a partial request
  absl::Time write_progress;                          // the last write, or the first byte queued

  // Its first bytes, kept while they may be the HTTP/2 preface (Http1ServerOptions::h2c).
  std::string sniffed;
  bool sniffing = true;

  bool Quiet() const {
    return active == nullptr && pending.empty() && out_sent == out.size() && decoder.idle();
  }
};

}  // namespace

struct Http1Server::Shared {
  explicit Shared(const Http1ServerOptions& o)
      : limits(ConnectionLimitOptions{o.max_connections, o.max_connections_per_address}) {}
  ConnectionLimits limits;
  std::atomic<size_t> open{0};
};

class Http1Server::Loop {
 public:
  // On `events` (another owner's running loop), or on a loop of its own when null.
  Loop(HttpHandler& handler, const Http1ServerOptions& options, Shared& shared, EventLoop* events)
      : handler_(handler),
        options_(options),
        shared_(shared),
        own_(events == nullptr ? std::make_unique<EventLoop>(options.clock) : nullptr),
        events_(events != nullptr ? events : own_.get()) {
    if (own_ != nullptr) {
      own_->Start();
    }
  }
  ~Loop() {
    if (own_ != nullptr) {
      own_->Stop();
    }
    if (!finished_) {
      Finish();  // the loop's thread has ended: this thread owns the connections now
    }
  }

  EventLoop& events() { return *events_; }

  // On the loop: its tick, and for the first loop the listening socket dealing connections to
  // `loops`.
  void Attach(int listen_fd, std::vector<Loop*> loops) {
    tick_ = events_->AddTick(kTick, [this] { Tick(); });
    if (listen_fd >= 0) {
      loops_ = std::move(loops);
      acceptor_ = std::make_unique<Acceptor>(
          *events_, shared_.limits, "HTTP",
          [this](int fd, std::string peer) { Deal(fd, std::move(peer)); },
          [this](absl::string_view reason) { handler_.CountRejected(reason); });
      acceptor_->Start(listen_fd);
    }
  }
  // On the loop (or after it ended): every connection closed, the loop given back.
  void Finish() {
    finished_ = true;
    CloseAll();
    if (acceptor_ != nullptr) {
      acceptor_->Stop();
    }
    events_->RemoveTick(tick_);
  }

  void Adopt(int fd, std::string peer);
  // Shutdown: no new requests; quiet connections close, streams are interrupted.
  void Drain();
  void CloseAll();

  // The exchange's calls, on the loop's thread.
  void Reply(Conn* c, int status, HttpHeaders headers, std::string body);
  void StreamHead(Conn* c, int status, HttpHeaders headers);
  void StreamChunk(Conn* c, const std::string& chunk);
  void StreamEnd(Conn* c);

 private:
  // An accepted connection, given to the loops in turn.
  void Deal(int fd, std::string peer);
  void OnEvents(Conn* c, uint32_t events);
  void Read(Conn* c);
  void Next(Conn* c);
  void Append(Conn* c, absl::string_view bytes);
  void Done(Conn* c);
  void Flush(Conn* c);
  void Interest(Conn* c);
  void Close(Conn* c, absl::string_view reason);
  // Whether `bytes` (just read) decide that the connection speaks HTTP/2: then it is handed to
  // Http1ServerOptions::h2c. Otherwise `bytes` is what to decode (what was held back too), or
  // empty while the first bytes may still be the preface.
  bool Sniff(Conn* c, absl::string_view& bytes, std::string& held);
  void Tick();

  HttpHandler& handler_;
  const Http1ServerOptions& options_;
  Shared& shared_;
  std::unique_ptr<EventLoop> own_;
  EventLoop* const events_;
  int tick_ = 0;
  bool finished_ = false;
  std::unique_ptr<Acceptor> acceptor_;  // the first loop's
  std::vector<Loop*> loops_;
  size_t next_loop_ = 0;
  bool draining_ = false;
  std::unordered_map<Conn*, std::unique_ptr<Conn>> conns_;
  std::vector<char> buffer_ = std::vector<char>(kReadChunk);
  ReleaseAfter release_{16 << 20, absl::Seconds(2)};
};

namespace {

// The exchange of one request. Its calls may come from any thread; each is posted to the
// connection's loop, so they reach the connection in the order they were made.
class Exchange final : public ExchangeBase, public std::enable_shared_from_this<Exchange> {
 public:
  Exchange(Http1Server::Loop* loop, EventLoop* events, Conn* conn)
      : loop_(loop), events_(events), conn_(conn) {}

  // On the loop: the response went out whole; the exchange lets go of its connection.
  void Complete() {
    conn_ = nullptr;
    SetOver();
  }
  // On the loop: the connection is going; the handler is told to stop.
  void Detach() {
    Complete();
    Interrupt();
  }

 private:
  void SendResponse(int status, HttpHeaders headers, std::string body) override {
    Post([status, headers = std::move(headers), body = std::move(body)](Http1Server::Loop& loop,
                                                                        Conn* c) mutable {
      loop.Reply(c, status, std::move(headers), std::move(body));
    });
  }
  void SendHead(int status, HttpHeaders headers) override {
    Post([status, headers = std::move(headers)](Http1Server::Loop& loop, Conn* c) mutable {
      loop.StreamHead(c, status, std::move(headers));
    });
  }
  void SendChunk(std::string chunk) override {
    Post([chunk = std::move(chunk)](Http1Server::Loop& loop, Conn* c) {
      loop.StreamChunk(c, chunk);
    });
  }
  void SendEnd() override {
    Post([](Http1Server::Loop& loop, Conn* c) { loop.StreamEnd(c); });
  }
  void RunCancel(std::function<void()> cancel) override { events_->Post(std::move(cancel)); }
  // Runs `job` on the connection's loop while the exchange has its connection.
  template <typename Job>
  void Post(Job job) {
    events_->Post([self = shared_from_this(), job = std::move(job)]() mutable {
      if (self->conn_ != nullptr) {
        job(*self->loop_, self->conn_);
      }
    });
  }

  Http1Server::Loop* const loop_;
  EventLoop* const events_;
  Conn* conn_;  // on the loop's thread only; null once the exchange is over
};

}  // namespace

void Http1Server::Loop::Deal(int fd, std::string peer) {
  shared_.open++;
  Loop* to = loops_[next_loop_++ % loops_.size()];
  if (to == this) {
    Adopt(fd, std::move(peer));
  } else {
    to->events_->Post(
        [to, fd, peer = std::move(peer)]() mutable { to->Adopt(fd, std::move(peer)); });
  }
}

void Http1Server::Loop::Adopt(int fd, std::string peer) {
  auto owned = std::make_unique<Conn>(fd, std::move(peer), options_.limits, events_->Now());
  Conn* c = owned.get();
  conns_.emplace(c, std::move(owned));
  events_->Add(fd, c->registered, [this, c](uint32_t events) { OnEvents(c, events); });
  if (draining_) {
    Close(c, "draining");
  }
}

void Http1Server::Loop::OnEvents(Conn* c, uint32_t events) {
  if (c->closed) {
    return;
  }
  if ((events & (EPOLLHUP | EPOLLERR)) != 0) {
    Close(c, "client_closed");  // reported even while not reading: nothing more can be sent
    return;
  }
  if ((events & (EPOLLIN | EPOLLRDHUP)) != 0) {
    Read(c);
  }
  if (!c->closed && (events & EPOLLOUT) != 0) {
    Flush(c);
  }
}

void Http1Server::Loop::Read(Conn* c) {
  while (!c->closed && c->reading) {
    const ssize_t n = read(c->fd, buffer_.data(), buffer_.size());
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
      // The client left (or half-closed: a request it will not read the answer to). What it
      // had under way is cancelled.
      Close(c, "client_closed");
      return;
    }
    if (n < 0) {
      break;
    }
    absl::string_view bytes(buffer_.data(), static_cast<size_t>(n));
    std::string held;
    if (c->sniffing && Sniff(c, bytes, held)) {
      return;  // handed over
    }
    if (bytes.empty()) {
      continue;  // the preface so far: read on
    }
    std::vector<Http1Request> got;
    std::optional<Http1Error> error = c->decoder.Feed(bytes, got);
    const absl::Time now = events_->Now();
    for (Http1Request& r : got) {
      c->pending.push_back(std::move(r));
    }
    if (c->decoder.idle()) {
      c->request_began = absl::InfiniteFuture();
    } else if (!got.empty() || c->request_began == absl::InfiniteFuture()) {
      c->request_began = now;
    }
    if (c->decoder.TakeContinue() && c->active == nullptr && c->pending.empty()) {
      Append(c, "HTTP/1.1 100 Continue\r\n\r\n");
    }
    if (error.has_value()) {
      c->refused = std::move(error);
      handler_.CountRejected("malformed");
    }
    if (c->refused.has_value() || c->pending.size() >= options_.max_pipelined) {
      c->reading = false;  // read on once the queue is answered
    }
    if (static_cast<size_t>(n) < buffer_.size()) {
      break;  // drained (epoll is level-triggered: more wakes it again), one read() saved
    }
  }
  Next(c);
  if (!c->closed) {
    Flush(c);
  }
}

void Http1Server::Loop::Next(Conn* c) {
  if (c->closed || c->active != nullptr) {
    return;
  }
  if (!c->pending.empty()) {
    Http1Request request = std::move(c->pending.front());
    c->pending.pop_front();
    c->keep_alive = request.keep_alive && !draining_;
    c->head = request.method == "HEAD";
    c->last_active = events_->Now();
    c->active = std::make_shared<Exchange>(this, events_, c);
    handler_.Handle(std::move(request), c->active);
    if (!c->refused.has_value() && c->pending.size() < options_.max_pipelined &&
        !c->close_after_write) {
      c->reading = true;
    }
    Interest(c);
    return;
  }
  if (c->refused.has_value()) {
    HttpHeaders headers;
    std::string body;
    handler_.Refused(c->refused->status, c->refused->message, headers, body);
    Append(c, EncodeResponse(c->refused->status, headers, body, false));
    c->refused.reset();
    c->close_after_write = true;
    c->reading = false;
  }
}

void Http1Server::Loop::Append(Conn* c, absl::string_view bytes) {
  if (c->out_sent == c->out.size()) {
    c->write_progress = events_->Now();
  }
  c->out.append(bytes.data(), bytes.size());
}

void Http1Server::Loop::Reply(Conn* c, int status, HttpHeaders headers, std::string body) {
  std::string response = EncodeResponse(status, headers, body, c->keep_alive);
  if (c->head) {
    response.resize(response.size() - body.size());
  }
  Append(c, response);
  Done(c);
}

void Http1Server::Loop::StreamHead(Conn* c, int status, HttpHeaders headers) {
  Append(c, EncodeChunkedHead(status, headers, c->keep_alive));
  Flush(c);
}

void Http1Server::Loop::StreamChunk(Conn* c, const std::string& chunk) {
  if (c->head) {
    return;
  }
  Append(c, EncodeChunk(chunk));
  if (c->out.size() - c->out_sent > options_.max_stream_backlog) {
    handler_.CountRejected("slow_reader");
    Close(c, "slow_reader");
    return;
  }
  Flush(c);
}

void Http1Server::Loop::StreamEnd(Conn* c) {
  if (!c->head) {
    Append(c, EncodeLastChunk());
  }
  Done(c);
}

void Http1Server::Loop::Done(Conn* c) {
  c->active->Complete();
  c->active.reset();
  c->served++;
  c->last_active = events_->Now();
  if (!c->keep_alive) {
    c->close_after_write = true;
    c->pending.clear();
    c->refused.reset();
    c->reading = false;
  }
  Next(c);
  Flush(c);
}

void Http1Server::Loop::Flush(Conn* c) {
  while (!c->closed && c->out_sent < c->out.size()) {
    const ssize_t n =
        send(c->fd, c->out.data() + c->out_sent, c->out.size() - c->out_sent, MSG_NOSIGNAL);
    if (n > 0) {
      c->out_sent += static_cast<size_t>(n);
      c->write_progress = events_->Now();
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
      break;
    } else {
      Close(c, "write_failed");
      return;
    }
  }
  if (c->out_sent == c->out.size()) {
    if (c->out.capacity() > kKeptBuffer) {
      release_.Freed(c->out.capacity());
      std::string().swap(c->out);
    } else {
      c->out.clear();
    }
    c->out_sent = 0;
    if (c->close_after_write) {
      // Half-close first, so that a client still sending does not get a reset that would
      // discard the response it has not read yet.
      shutdown(c->fd, SHUT_WR);
      Close(c, "done");
      return;
    }
  }
  Interest(c);
}

void Http1Server::Loop::Interest(Conn* c) {
  if (c->closed) {
    return;
  }
  uint32_t events = c->reading ? EPOLLIN | EPOLLRDHUP : 0;
  if (c->out_sent < c->out.size()) {
    events |= EPOLLOUT;
  }
  if (events != c->registered) {
    c->registered = events;
    events_->Modify(c->fd, events);
  }
}

bool Http1Server::Loop::Sniff(Conn* c, absl::string_view& bytes, std::string& held) {
  static constexpr absl::string_view kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
  if (!options_.h2c || (c->sniffed.empty() && !bytes.empty() && bytes[0] != kPreface[0])) {
    c->sniffing = false;  // HTTP/1.1, told by the first byte
    return false;
  }
  c->sniffed.append(bytes.data(), bytes.size());
  const size_t compared = std::min(c->sniffed.size(), kPreface.size());
  if (absl::string_view(c->sniffed).substr(0, compared) != kPreface.substr(0, compared)) {
    c->sniffing = false;  // HTTP/1.1: decode what was held back with what came now
    held.swap(c->sniffed);
    bytes = held;
    return false;
  }
  if (c->sniffed.size() < kPreface.size()) {
    bytes = {};
    return false;
  }
  // HTTP/2: the connection leaves this server with what was read of it.
  c->closed = true;
  events_->Remove(c->fd);
  shared_.limits.Remove(c->peer);
  shared_.open--;
  std::string read = std::move(c->sniffed);
  options_.h2c(c->fd, c->peer, std::move(read));
  events_->Post([this, c] { conns_.erase(c); });
  return true;
}

void Http1Server::Loop::Close(Conn* c, absl::string_view /*reason*/) {
  if (c->closed) {
    return;
  }
  c->closed = true;
  events_->Remove(c->fd);
  close(c->fd);
  shared_.limits.Remove(c->peer);
  shared_.open--;
  if (c->active != nullptr) {
    std::shared_ptr<Exchange> active = std::move(c->active);
    active->Detach();
  }
  release_.Freed(c->out.capacity() + c->decoder.partial_bytes());
  // Freed after this turn: the handler running now may be this connection's.
  events_->Post([this, c] { conns_.erase(c); });
}

void Http1Server::Loop::Drain() {
  draining_ = true;
  if (acceptor_ != nullptr) {
    acceptor_->Stop();
  }
  std::vector<Conn*> all;
  for (auto& [c, owned] : conns_) {
    all.push_back(c);
  }
  for (Conn* c : all) {
    if (c->closed) {
      continue;
    }
    if (c->Quiet()) {
      Close(c, "draining");
      continue;
    }
    c->keep_alive = false;
    c->pending.clear();
    c->refused.reset();
    if (c->active != nullptr && c->active->streaming()) {
      c->active->Interrupt();  // the handler ends the stream
    }
  }
}

void Http1Server::Loop::CloseAll() {
  std::vector<Conn*> all;
  for (auto& [c, owned] : conns_) {
    all.push_back(c);
  }
  for (Conn* c : all) {
    Close(c, "shutdown");
  }
}

void Http1Server::Loop::Tick() {
  const absl::Time now = events_->Now();
  if (acceptor_ != nullptr && !draining_) {
    acceptor_->Resume();
  }
  std::vector<Conn*> all;
  all.reserve(conns_.size());
  for (auto& [c, owned] : conns_) {
    all.push_back(c);
  }
  for (Conn* c : all) {
    if (c->closed) {
      continue;
    }
    if (c->out_sent < c->out.size() && now - c->write_progress >= options_.stall_timeout) {
      handler_.CountRejected("stalled");
      Close(c, "stalled");
      continue;
    }
    if (c->request_began != absl::InfiniteFuture() &&
        now - c->request_began >= options_.request_timeout && !c->refused.has_value()) {
      // A request trickled in (slowloris): answered 408 when nothing is before it, then closed.
      handler_.CountRejected("request_timeout");
      c->request_began = absl::InfiniteFuture();
      if (c->active == nullptr && c->pending.empty()) {
        c->refused = Http1Error{408, absl::StrCat("the request did not arrive whole within ",
                                                  absl::FormatDuration(options_.request_timeout))};
        Next(c);
        Flush(c);
      } else {
        Close(c, "request_timeout");
      }
      continue;
    }
    if (c->Quiet()) {
      if (draining_) {
        Close(c, "draining");
      } else if (c->served == 0 && now - c->opened >= options_.first_request_timeout) {
        handler_.CountRejected("first_request_timeout");
        Close(c, "first_request_timeout");
      } else if (now - c->last_active >= options_.idle_timeout) {
        Close(c, "idle");
      }
    }
  }
  release_.MaybeRelease(now);
}

Http1Server::Http1Server(HttpHandler& handler, Http1ServerOptions options)
    : handler_(handler),
      options_(std::move(options)),
      shared_(std::make_unique<Shared>(options_)) {}

Http1Server::~Http1Server() {
  Shutdown(absl::ZeroDuration());
  if (listen_fd_ >= 0) {
    close(listen_fd_);
  }
}

absl::Status Http1Server::Listen() {
  absl::StatusOr<int> fd = ListenOn(options_.listen, "--http_listen");
  if (!fd.ok()) {
    return fd.status();
  }
  listen_fd_ = *fd;
  port_ = LocalPort(listen_fd_);
  return absl::OkStatus();
}

namespace {

// Runs `job` on `loop` and waits for it; when the loop has stopped (the job is dropped), runs
// it here: the loop's thread is gone, so this thread owns what it owned.
void RunOn(EventLoop& loop, const std::function<void()>& job) {
  auto done = std::make_shared<std::promise<void>>();
  std::future<void> ran = done->get_future();
  loop.Post([done, &job] {
    job();
    done->set_value();
  });
  done.reset();
  try {
    ran.get();
  } catch (const std::future_error&) {
    job();
  }
}

}  // namespace

void Http1Server::Start() {
  RaiseDescriptorLimit();
  std::vector<Loop*> loops;
  const size_t n = options_.loops.empty() ? static_cast<size_t>(std::max(options_.threads, 1))
                                          : options_.loops.size();
  for (size_t i = 0; i < n; ++i) {
    EventLoop* shared = options_.loops.empty() ? nullptr : options_.loops[i];
    loops_.push_back(std::make_unique<Loop>(handler_, options_, *shared_, shared));
    loops.push_back(loops_.back().get());
  }
  for (size_t i = 0; i < loops.size(); ++i) {
    Loop* l = loops[i];
    RunOn(l->events(), [&, l, i] { l->Attach(i == 0 ? listen_fd_ : -1, loops); });
  }
}

void Http1Server::Shutdown(absl::Duration grace) {
  if (loops_.empty()) {
    return;
  }
  for (auto& loop : loops_) {
    Loop* l = loop.get();
    l->events().Post([l] { l->Drain(); });
  }
  const absl::Time until = absl::Now() + grace;
  while (shared_->open.load() > 0 && absl::Now() < until) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  for (auto& loop : loops_) {
    Loop* l = loop.get();
    RunOn(l->events(), [l] { l->Finish(); });
    RunOn(l->events(), [] {});  // what Finish posted (connections freed) has run
  }
  loops_.clear();
}

size_t Http1Server::connections() const { return shared_->open.load(); }

}  // namespace accord::frontdoor
