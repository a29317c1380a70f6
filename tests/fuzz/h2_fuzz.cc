// The HTTP/2 front end (frontdoor/h2_relay) fed arbitrary frames: a running front end on
// loopback, with a local method that echoes, one that pushes, a route to a backend that is
// down, and an HTTP handler for requests that are not gRPC (answered whole, or streamed). Each
// input is what a client sends after the connection preface; the connection is then half-closed and
// read until the server closes it. Crashes, leaks (ASan) and hangs are what it finds: a front end
// must survive any bytes.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "absl/strings/match.h"

#include "frontdoor/h2_relay.h"
#include "frontdoor/http1_server.h"
#include "tests/fuzz/loopback_client.h"

namespace {

using namespace accord;

class Echo final : public LocalMethod {
 public:
  std::unique_ptr<LocalCall> Begin() override { return std::make_unique<Call>(); }

 private:
  class Call final : public LocalCall {
   public:
    absl::Status OnMessage(absl::string_view message, std::string& out) override {
      if (message == "fail") {
        return absl::InvalidArgumentError("asked to fail");
      }
      AppendMessage(out, [&](std::string& o) { o.append(message.data(), message.size()); });
      return absl::OkStatus();
    }
    absl::Status OnHalfClose() override { return absl::OkStatus(); }
  };
};

class Pusher final : public LocalMethod {
 public:
  std::unique_ptr<LocalCall> Begin() override { return std::make_unique<Call>(); }

 private:
  class Call final : public LocalCall {
   public:
    bool Attach(std::shared_ptr<LocalPush> push) override {
      push_ = std::move(push);
      return true;
    }
    absl::Status OnMessage(absl::string_view message, std::string&) override {
      std::string out;
      AppendMessage(out, [&](std::string& o) { o.append(message.data(), message.size()); });
      push_->Write(out + out);
      if (message.size() % 2 == 1) {
        push_->Finish(absl::OkStatus());
      }
      return absl::OkStatus();
    }
    absl::Status OnHalfClose() override { return absl::OkStatus(); }

   private:
    std::shared_ptr<LocalPush> push_;
  };
};

class Routes final : public RelayRoutes {
 public:
  Routes() {
    echo_ = {"/f.F/Echo", -1, &echo_method_, false};
    unary_ = {"/f.F/Unary", -1, &echo_method_, true};
    push_ = {"/f.F/Push", -1, &push_method_, false};
    down_ = {"/f.F/Down", 0, nullptr, true};
  }
  const RelayRoute* Find(absl::string_view path) const override {
    for (const RelayRoute* r : {&echo_, &unary_, &push_, &down_}) {
      if (path == r->path) {
        return r;
      }
    }
    return nullptr;
  }
  absl::StatusOr<std::unique_ptr<RelayTicket>> Admit(const RelayRoute&,
                                                     const CallerHeaders& caller) override {
    if (caller.repeated_authorization || caller.authorization != "Bearer f") {
      return absl::UnauthenticatedError("no");
    }
    return nullptr;
  }

 private:
  Echo echo_method_;
  Pusher push_method_;
  RelayRoute echo_, unary_, push_, down_;
};

// Requests that are not gRPC: "/s..." streamed (ended when the body's length is odd, else held
// until the stream goes), anything else answered whole.
class Http final : public frontdoor::HttpHandler {
 public:
  void Handle(frontdoor::Http1Request request,
              std::shared_ptr<frontdoor::HttpExchange> exchange) override {
    if (absl::StartsWith(request.target, "/s")) {
      exchange->BeginStream(200, {{"Content-Type", "text/plain"}});
      exchange->Write(request.body);
      if (request.body.size() % 2 == 1) {
        exchange->End();
      }
      held_[next_++ % 8] = std::move(exchange);  // one loop: one thread calls this
      return;
    }
    exchange->Respond(request.target.size() % 2 == 1 ? 200 : 404, {{"X-Method", request.method}},
                      std::move(request.body));
  }

 private:
  std::shared_ptr<frontdoor::HttpExchange> held_[8];
  size_t next_ = 0;
};

// Started once, never stopped (the process ends with it); held here, so that leak checks see
// them reachable.
Routes* routes = nullptr;
Http* http = nullptr;
H2Relay* relay = nullptr;

int Port() {
  static int port = [] {
    routes = new Routes();
    RelayOptions options;
    options.listen = "127.0.0.1:0";
    options.threads = 1;
    options.workers = 1;
    options.worker_min_bytes = 64;
    options.max_message_bytes = 64 * 1024;
    options.max_header_bytes = 2048;
    options.max_push_backlog = 64 * 1024;
    options.stall_timeout = absl::Milliseconds(200);
    options.backends = {{"down", "127.0.0.1:1"}};
    relay = new H2Relay(*routes, options, nullptr);
    if (!relay->Listen().ok()) {
      std::abort();
    }
    relay->Start("127.0.0.1:1");
    http = new Http();
    relay->ServeHttp(http, 4096);
    return relay->port();
  }();
  return port;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  int fd = accord::fuzzing::ConnectFromNewLoopback(Port(), "h2_fuzz");
  std::string out = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
  out.append(reinterpret_cast<const char*>(data), size);
  accord::fuzzing::SendThenHalfClose(fd, out);
  // The server must close: a connection it keeps after the client's end is a leak.
  if (!accord::fuzzing::ReadUntilClosed(fd, 20000)) {
    // Say what state the server is in before failing: its open descriptors, and whether a
    // new connection gets the server's SETTINGS (the loop is alive).
    int fds = 0;
    for (int i = 0; i < 65536; ++i) {
      fds += fcntl(i, F_GETFD) != -1 ? 1 : 0;
    }
    int probe = accord::fuzzing::ConnectFromNewLoopback(Port(), "h2_fuzz (probe)");
    const std::string preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    send(probe, preface.data(), preface.size(), MSG_NOSIGNAL);
    pollfd q{probe, POLLIN, 0};
    std::fprintf(stderr, "h2_fuzz: no close in 20 s; %d descriptors open; a new connection %s\n",
                 fds, poll(&q, 1, 2000) > 0 ? "is answered" : "is not answered");
    // The sockets' states as the kernel sees them (CLOSE-WAIT on the server's side: it had the
    // client's end and did not close), where `ss` is installed.
    const std::string ss = "ss -tnoi state all '( sport = :" + std::to_string(Port()) +
                           " or dport = :" + std::to_string(Port()) + " )' >&2";
    [[maybe_unused]] int ignored = std::system(ss.c_str());
    std::abort();
  }
  close(fd);
  return 0;
}
