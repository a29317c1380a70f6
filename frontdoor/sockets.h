#pragma once

#include <sys/socket.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"

// Socket plumbing the front ends share: addresses resolved, a listening socket opened.
namespace accord::frontdoor {

// The socket addresses of HOST:PORT (an empty host: every local address when `passive`).
// Empty when it does not resolve.
std::vector<sockaddr_storage> Resolve(const std::string& address, bool passive);

// The length of `address` for bind and connect.
socklen_t AddressLength(const sockaddr_storage& address);

// Sends small writes at once (no Nagle: with delayed ACKs it adds 40 ms to a response).
void NoDelay(int fd);

// A non-blocking listening socket on HOST:PORT (port 0: any free port): INVALID_ARGUMENT when
// the address does not resolve, UNAVAILABLE when it cannot be bound. `flag` names the address
// in errors ("--listen").
absl::StatusOr<int> ListenOn(const std::string& address, const std::string& flag);

// The local port a socket is bound to.
int LocalPort(int fd);

}  // namespace accord::frontdoor
