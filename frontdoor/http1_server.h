#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

#include "common/clock.h"
#include "frontdoor/http1_codec.h"
#include "frontdoor/http_exchange.h"

// An HTTP/1.1 server on event loops (event_loop.h): connections read and written without a
// thread each, requests decoded by Http1Decoder and given to a handler that answers now or
// later, from any thread. A connection's requests are answered in order (pipelined ones wait
// for the one before). Every wait is bounded: a request must be whole within
// `request_timeout` of its first byte (slowloris), a connection that makes no request is
// closed, and one whose client does not read its response is closed. docs/frontdoor.md has
// the limits. A connection that opens with the HTTP/2 preface may be handed to an HTTP/2 server
// (Http1ServerOptions::h2c).
namespace accord::frontdoor {

class EventLoop;

struct Http1ServerOptions {
  std::string listen;  // HOST:PORT (port 0: any)
  int threads = 1;     // event loops; accepted connections are dealt to them in turn
  // Serve on these running loops (another server's, e.g. the HTTP/2 relay's: a request and
  // the backend call it makes then share a thread) instead of `threads` loops of its own. They
  // must outlive the server.
  std::vector<EventLoop*> loops;
  Http1Limits limits;
  // A request's head and body must arrive within this of its first byte (408, then close).
  absl::Duration request_timeout = absl::Seconds(10);
  // A connection that has sent no request this long after it opened is closed.
  absl::Duration first_request_timeout = absl::Seconds(10);
  // A keep-alive connection with nothing under way this long is closed.
  absl::Duration idle_timeout = absl::Seconds(60);
  // A connection whose client reads nothing of its response this long is closed.
  absl::Duration stall_timeout = absl::Seconds(10);
  // A streamed response's bytes its client has not read; past it the connection is closed.
  size_t max_stream_backlog = 8 * 1024 * 1024;
  size_t max_pipelined = 16;  // requests read ahead of the one being answered
  size_t max_connections = 20000;
  size_t max_connections_per_address = 1000;
  const Clock* clock = nullptr;  // timeouts' clock (null: the system's)
  // A connection that opens with the HTTP/2 client preface (h2c with prior knowledge) is handed
  // to this with the bytes read of it (H2Relay::Serve): it leaves this server, its limits and
  // its timeouts. Unset: such a connection is refused as a malformed HTTP/1.1 request.
  std::function<void(int fd, std::string peer, std::string read)> h2c;
};

class Http1Server final {
 public:
  Http1Server(HttpHandler& handler, Http1ServerOptions options);
  ~Http1Server();
  Http1Server(const Http1Server&) = delete;
  Http1Server& operator=(const Http1Server&) = delete;

  // Binds the address: INVALID_ARGUMENT or UNAVAILABLE when it cannot.
  absl::Status Listen();
  int port() const { return port_; }
  void Start();
  // Stops accepting; idle connections close at once, the rest after their response (streams
  // are cancelled); after `grace` every connection is closed.
  void Shutdown(absl::Duration grace);

  // Connections open now (tests and metrics).
  size_t connections() const;

  class Loop;

 private:
  HttpHandler& handler_;
  Http1ServerOptions options_;
  int listen_fd_ = -1;
  int port_ = 0;
  struct Shared;
  std::unique_ptr<Shared> shared_;
  std::vector<std::unique_ptr<Loop>> loops_;
};

}  // namespace accord::frontdoor
