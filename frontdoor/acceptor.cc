#include "frontdoor/acceptor.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

#include "common/log.h"
#include "frontdoor/sockets.h"

namespace accord::frontdoor {

Acceptor::Acceptor(EventLoop& loop, ConnectionLimits& limits, std::string port,
                   std::function<void(int fd, std::string peer)> adopt,
                   std::function<void(absl::string_view reason)> rejected)
    : loop_(loop),
      limits_(limits),
      port_(std::move(port)),
      adopt_(std::move(adopt)),
      rejected_(std::move(rejected)) {}

void Acceptor::Start(int listen_fd) {
  fd_ = listen_fd;
  loop_.Add(fd_, EPOLLIN, [this](uint32_t) { Accept(); });
}

void Acceptor::Stop() {
  if (fd_ >= 0) {
    loop_.Remove(fd_);
    fd_ = -1;
  }
}

void Acceptor::Resume() {
  if (paused_ && fd_ >= 0) {
    paused_ = false;
    loop_.Modify(fd_, EPOLLIN);
  }
}

void Acceptor::LogRarely(absl::string_view message, std::initializer_list<LogField> fields) {
  const absl::Time now = loop_.Now();
  if (now - logged_ >= absl::Seconds(5)) {
    logged_ = now;
    Log(LogLevel::kWarning, absl::StrCat(port_, ": ", message), fields);
  }
}

void Acceptor::Accept() {
  while (fd_ >= 0) {
    const int fd = accept4(fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        // The connection waits in the backlog and the socket stays readable: accepting
        // pauses until Resume instead of spinning.
        loop_.Modify(fd_, 0);
        paused_ = true;
        rejected_("descriptors");
        LogRarely("cannot accept connections", {{"error", std::strerror(errno)}});
      }
      return;
    }
    std::string peer = PeerAddress(fd);
    std::string why;
    if (!limits_.TryAdd(peer, &why)) {
      close(fd);
      rejected_("connections");
      LogRarely("connection refused", {{"peer", peer}, {"why", why}});
      continue;
    }
    NoDelay(fd);
    adopt_(fd, std::move(peer));
  }
}

}  // namespace accord::frontdoor
