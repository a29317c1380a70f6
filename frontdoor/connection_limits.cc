#include "frontdoor/connection_limits.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "absl/strings/str_cat.h"

namespace accord::frontdoor {

bool ConnectionLimits::TryAdd(absl::string_view address, std::string* why) {
  std::lock_guard lock(mu_);
  if (total_ >= options_.max_connections) {
    *why = absl::StrCat("the server holds its limit of ", options_.max_connections, " connections");
    return false;
  }
  auto [it, added] = from_.try_emplace(std::string(address), 0);
  if (it->second >= options_.max_connections_per_address) {
    *why = absl::StrCat(address, " holds its limit of ", options_.max_connections_per_address,
                        " connections");
    return false;
  }
  ++it->second;
  ++total_;
  return true;
}

void ConnectionLimits::Remove(absl::string_view address) {
  std::lock_guard lock(mu_);
  auto it = from_.find(std::string(address));
  if (it == from_.end()) {
    return;
  }
  if (--it->second == 0) {
    from_.erase(it);
  }
  --total_;
}

size_t ConnectionLimits::total() const {
  std::lock_guard lock(mu_);
  return total_;
}

size_t ConnectionLimits::from(absl::string_view address) const {
  std::lock_guard lock(mu_);
  auto it = from_.find(std::string(address));
  return it == from_.end() ? 0 : it->second;
}

void RaiseDescriptorLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

std::string PeerAddress(int fd) {
  sockaddr_storage peer{};
  socklen_t length = sizeof peer;
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &length) != 0) {
    return "";
  }
  char text[INET6_ADDRSTRLEN] = "";
  if (peer.ss_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&peer)->sin_addr, text, sizeof text);
  } else if (peer.ss_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&peer)->sin6_addr, text, sizeof text);
  }
  return text;
}

}  // namespace accord::frontdoor
