#pragma once

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"

#include "frontdoor/http1_server.h"
#include "gateway/console_files.h"
#include "gateway/gate.h"
#include "gateway/http_rules.h"
#include "gateway/http_transcoder.h"

// The HTTP/JSON front end: the front door's HTTP/1.1 server (frontdoor/http1_server.h) on event
// loops, every google.api.http route transcoded by HttpTranscoder (http_transcoder.h) behind
// the same gate as gRPC. No thread per connection or per watch: idle keep-alive clients and
// open watch streams cost a connection's buffers. Body <= 1 MiB, headers <= 16 KiB, no
// Content-Encoding, a request whole within 10 s of its first byte. HTTP/2 too: a connection to
// this port that opens with the HTTP/2 preface (h2c with prior knowledge) goes to the gRPC
// front end (H2Relay::Serve), and that front end hands every request that is not gRPC, on
// either port, h2 over TLS included, to this server's handler (H2Relay::ServeHttp).
namespace accord::gateway {

struct HttpOptions {
  std::string listen = "127.0.0.1:7480";
  // Event loops of its own; 0: the gRPC front end's (H2Relay::event_loops()), so that a
  // request, its backend call and its response are made on one thread without a wake-up.
  int threads = 0;
  size_t max_body_bytes = 1024 * 1024;
  size_t max_header_bytes = 16 * 1024;
  absl::Duration request_timeout = absl::Seconds(10);  // a request's head and body
  absl::Duration idle_timeout = absl::Seconds(60);     // a keep-alive connection between requests
  // The review console served at /console/ (and / redirects there); null: no console.
  const ConsoleFiles* console = nullptr;
};

class HttpServer final : public frontdoor::HttpHandler {
 public:
  // Unary calls go through `relay` (HttpTranscoder).
  HttpServer(Gate& gate, H2Relay& relay, const Router& router, HttpOptions options);
  ~HttpServer() override;

  // Binds and serves; UNAVAILABLE if the address cannot be bound.
  absl::Status Start();
  int port() const { return server_.port(); }
  // Stops accepting; requests under way finish (watches end) for up to 5 s.
  void Stop();

  void Handle(frontdoor::Http1Request request,
              std::shared_ptr<frontdoor::HttpExchange> exchange) override;
  void Refused(int status, absl::string_view message, frontdoor::HttpHeaders& headers,
               std::string& body) override;
  void CountRejected(absl::string_view reason) override;

 private:
  Gate& gate_;
  H2Relay& relay_;
  size_t max_body_bytes_;
  HttpTranscoder transcoder_;
  frontdoor::Http1Server server_;
  bool started_ = false;
};

}  // namespace accord::gateway
