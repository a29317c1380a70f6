#pragma once

#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>

#include "absl/strings/string_view.h"

// How many client connections a front end holds: in all, and from one source address. A
// connection over either limit is closed as it is accepted, so that no one client (or a flood
// of idle ones) takes the file descriptors and memory every other client needs.
namespace accord::frontdoor {

struct ConnectionLimitOptions {
  size_t max_connections = 20000;             // in all
  size_t max_connections_per_address = 1000;  // from one source IP address
};

class ConnectionLimits final {
 public:
  explicit ConnectionLimits(ConnectionLimitOptions options) : options_(options) {}

  // Takes a place for a connection from `address` (an IP address, no port). False, and the
  // reason in `why`, when a limit is reached. Thread-safe.
  bool TryAdd(absl::string_view address, std::string* why);
  // Gives back the place TryAdd took for `address`.
  void Remove(absl::string_view address);

  size_t total() const;
  size_t from(absl::string_view address) const;

 private:
  const ConnectionLimitOptions options_;
  mutable std::mutex mu_;
  size_t total_ = 0;                              // guarded by mu_
  std::unordered_map<std::string, size_t> from_;  // guarded by mu_: only addresses with some
};

// Raises this process's soft limit on open files to its hard limit (a server's connections
// are files; Debian's default soft limit is 1,024).
void RaiseDescriptorLimit();

// The IP address of a socket's peer ("127.0.0.1", "::1"); empty when the socket has none.
std::string PeerAddress(int fd);

}  // namespace accord::frontdoor
