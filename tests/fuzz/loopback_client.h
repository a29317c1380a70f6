#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

// The client side of the fuzz targets that feed a running server on loopback (h2_fuzz,
// http1_server_fuzz): connect, send an input, half-close, and wait for the server to close.
namespace accord::fuzzing {

// A connection to 127.0.0.1:`port` from a different loopback address each time (127.x.y.z):
// the client ends first, so its side keeps each connection in TIME_WAIT for a minute, and at
// a thousand inputs a second the ports of one address would be reused while old connections
// linger. Aborts, naming `who`, when it cannot connect.
inline int ConnectFromNewLoopback(int port, const char* who) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  static uint32_t next_source = 0;
  sockaddr_in source{};
  source.sin_family = AF_INET;
  source.sin_addr.s_addr = htonl(0x7f000000u | (1u + (next_source++ % 0xfffffdu)));
  bind(fd, reinterpret_cast<sockaddr*>(&source), sizeof source);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  // (libFuzzer's timer interrupts a connect now and then: it goes on, and is waited for.)
  int connected = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  while (connected != 0 && (errno == EINTR || errno == EALREADY)) {
    pollfd w{fd, POLLOUT, 0};
    poll(&w, 1, 1000);
    connected = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  }
  if (connected != 0 && errno != EISCONN) {
    std::fprintf(stderr, "%s: connect: %s\n", who, std::strerror(errno));
    std::abort();
  }
  return fd;
}

// Sends `bytes`, reads what comes back for a moment (so that answers are written), then
// half-closes: the server reads to the end.
inline void SendThenHalfClose(int fd, const std::string& bytes) {
  send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  char buf[65536];
  pollfd p{fd, POLLIN, 0};
  for (int i = 0; i < 4 && poll(&p, 1, 2) > 0; ++i) {
    if (read(fd, buf, sizeof buf) <= 0) {
      break;
    }
  }
  shutdown(fd, SHUT_WR);
}

// Reads until the server closes the connection: false when it has not within `timeout_ms`
// of the last bytes read (a connection a server keeps after the client's end is a leak).
// A signal (libFuzzer's timer, every second or so) interrupts poll() and read() now and then:
// they are retried, so that an interruption is not taken for a server that never closed.
inline bool ReadUntilClosed(int fd, int timeout_ms) {
  char buf[65536];
  pollfd p{fd, POLLIN, 0};
  for (;;) {
    const int ready = poll(&p, 1, timeout_ms);
    if (ready < 0 && errno == EINTR) {
      continue;
    }
    if (ready <= 0) {
      return false;
    }
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return true;
    }
  }
}

}  // namespace accord::fuzzing
