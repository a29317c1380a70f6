// The HTTP/1.1 server (frontdoor/http1_server) fed arbitrary bytes: a running server on
// loopback whose handler answers at once, later from another thread ("/late"), or as a stream
// ("/stream"); a connection that opens with the HTTP/2 preface is handed to an HTTP/2 front end
// with the same handler (h2c). Each input is what a client sends; the connection is then
// half-closed and read until the server closes it. Crashes, leaks (ASan) and connections never
// closed are what it finds: the server must survive any bytes.
#include <unistd.h>

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "frontdoor/h2_relay.h"
#include "frontdoor/http1_server.h"
#include "tests/fuzz/loopback_client.h"

namespace {

using namespace accord::frontdoor;
using accord::CallerHeaders;
using accord::H2Relay;
using accord::RelayOptions;
using accord::RelayRoute;
using accord::RelayRoutes;
using accord::RelayTicket;

// Answers "/late" from this thread, in order.
class Later {
 public:
  Later() {
    std::thread([this] {
      for (;;) {
        std::function<void()> job;
        {
          std::unique_lock lock(mu_);
          cv_.wait(lock, [&] { return !jobs_.empty(); });
          job = std::move(jobs_.front());
          jobs_.pop_front();
        }
        job();
      }
    }).detach();
  }
  void Post(std::function<void()> job) {
    std::lock_guard lock(mu_);
    jobs_.push_back(std::move(job));
    cv_.notify_one();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
};

class Handler final : public HttpHandler {
 public:
  void Handle(Http1Request request, std::shared_ptr<HttpExchange> exchange) override {
    if (request.target == "/stream") {
      exchange->OnCancel([] {});
      exchange->BeginStream(200, {{"Content-Type", "text/plain"}});
      exchange->Write(request.body);
      exchange->Write("line\n");
      exchange->End();
      return;
    }
    std::string body = request.method + " " + request.target + " " + request.body;
    if (request.target == "/late") {
      later_.Post([exchange, body] { exchange->Respond(200, {}, body); });
      return;
    }
    exchange->Respond(request.target == "/404" ? 404 : 200, {{"X-Echo", "1"}}, body);
  }

 private:
  Later later_;
};

// Started once, never stopped (the process ends with it).
Handler* handler = nullptr;
Http1Server* server = nullptr;

// The HTTP/2 front end h2c connections are handed to: no gRPC routes, HTTP to `handler`.
class NoRoutes final : public RelayRoutes {
 public:
  const RelayRoute* Find(absl::string_view) const override { return nullptr; }
  absl::StatusOr<std::unique_ptr<RelayTicket>> Admit(const RelayRoute&,
                                                     const CallerHeaders&) override {
    return nullptr;
  }
};
NoRoutes* no_routes = nullptr;
H2Relay* relay = nullptr;

int Port() {
  static int port = [] {
    handler = new Handler();
    no_routes = new NoRoutes();
    RelayOptions relay_options;
    relay_options.listen = "127.0.0.1:0";
    relay_options.stall_timeout = absl::Milliseconds(200);
    relay = new H2Relay(*no_routes, relay_options, nullptr);
    if (!relay->Listen().ok()) {
      std::abort();
    }
    relay->Start("127.0.0.1:1");
    relay->ServeHttp(handler, 64 * 1024);
    Http1ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.limits.max_header_bytes = 2048;
    options.limits.max_body_bytes = 64 * 1024;
    options.max_stream_backlog = 64 * 1024;
    options.max_pipelined = 4;
    options.loops = relay->event_loops();
    options.h2c = [](int fd, std::string peer, std::string read) {
      relay->Serve(fd, std::move(peer), std::move(read));
    };
    server = new Http1Server(*handler, options);
    if (!server->Listen().ok()) {
      std::abort();
    }
    server->Start();
    return server->port();
  }();
  return port;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  int fd = accord::fuzzing::ConnectFromNewLoopback(Port(), "http1_server_fuzz");
  accord::fuzzing::SendThenHalfClose(fd, std::string(reinterpret_cast<const char*>(data), size));
  // The server must close once the client has ended its side.
  if (!accord::fuzzing::ReadUntilClosed(fd, 20000)) {
    std::fprintf(stderr, "http1_server_fuzz: no close in 20 s (%zu connections open)\n",
                 server->connections());
    std::abort();
  }
  close(fd);
  return 0;
}
