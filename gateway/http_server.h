#pragma once

#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"

#include "gateway/console_files.h"
#include "gateway/gate.h"
#include "gateway/http_rules.h"
#include "gateway/http_transcoder.h"

namespace httplib {
class Server;
}

// The HTTP/JSON front end on cpp-httplib: every google.api.http route, transcoded by
// HttpTranscoder (http_transcoder.h), behind the same gate as gRPC. Hardened: body <= 1 MiB,
// headers <= 16 KiB, read/idle timeouts, no Content-Encoding, no exception text to clients.
namespace accord::gateway {

struct HttpOptions {
  std::string listen = "127.0.0.1:7480";
  int threads = 64;  // connections served at once (one thread each)
  size_t max_body_bytes = 1024 * 1024;
  size_t max_header_bytes = 16 * 1024;
  int read_timeout_seconds = 5;  // headers and body must arrive within this
  // An idle keep-alive connection holds its thread: short, so idle clients cannot starve others.
  int idle_timeout_seconds = 5;
  // The review console served at /console/ (and / redirects there); null: no console.
  const ConsoleFiles* console = nullptr;
};

class HttpServer final {
 public:
  HttpServer(Gate& gate, const Router& router, HttpOptions options);
  ~HttpServer();

  // Binds and serves on a thread; UNAVAILABLE if the address cannot be bound.
  absl::Status Start();
  int port() const { return port_; }
  void Stop();

 private:
  HttpOptions options_;
  HttpTranscoder transcoder_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace accord::gateway
