#pragma once

#include <functional>
#include <initializer_list>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

#include "common/log.h"
#include "frontdoor/connection_limits.h"
#include "frontdoor/event_loop.h"

// Accepting a listening socket's connections on an event loop, for both front ends (the HTTP/2
// relay and the HTTP/1.1 server): each connection is counted against the connection limits
// and handed over, or closed at once when a limit is reached; when the process is out of file
// descriptors (or memory), accepting pauses until the owner resumes it (its next tick) instead
// of spinning on a socket that stays readable. Refusals are counted, and logged at most every
// 5 s.
namespace accord::frontdoor {

class Acceptor final {
 public:
  // `adopt` takes an accepted connection (non-blocking, TCP_NODELAY) and the peer's address,
  // whose place in `limits` it must give back when the connection closes. `rejected` counts
  // a refusal by reason: "connections" (a limit), "descriptors" (out of descriptors). `port`
  // names the port in logs ("HTTP", "gRPC").
  Acceptor(EventLoop& loop, ConnectionLimits& limits, std::string port,
           std::function<void(int fd, std::string peer)> adopt,
           std::function<void(absl::string_view reason)> rejected);
  Acceptor(const Acceptor&) = delete;
  Acceptor& operator=(const Acceptor&) = delete;

  // On the loop's thread (or before it starts): accepts `listen_fd`'s connections. The owner
  // keeps the socket and closes it.
  void Start(int listen_fd);
  // On the loop's thread: accepts no more (a drain, a shutdown). Idempotent.
  void Stop();
  // On the loop's thread: accepts again after a pause at the descriptor limit.
  void Resume();

 private:
  void Accept();
  // Logs `message` unless it logged in the last 5 s.
  void LogRarely(absl::string_view message, std::initializer_list<LogField> fields);

  EventLoop& loop_;
  ConnectionLimits& limits_;
  const std::string port_;
  std::function<void(int, std::string)> adopt_;
  std::function<void(absl::string_view)> rejected_;
  int fd_ = -1;
  bool paused_ = false;
  absl::Time logged_ = absl::InfinitePast();
};

}  // namespace accord::frontdoor
