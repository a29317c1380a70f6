// The HTTP/1.1 server on loopback sockets, with a handler written for each test: answers in
// order (pipelined and late ones), streams, and every limit the server keeps (too large,
// too slow, idle, slow readers, connections per address), timeouts on a fake clock.
#include "frontdoor/http1_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

#include "frontdoor/event_loop.h"
#include "tests/testing/descriptors.h"
#include "tests/testing/fake_clock.h"

namespace accord::frontdoor {
namespace {

// Answers "<method> <target> <body>" at once; "/late" answers from another thread after
// 50 ms; "/stream" streams (the test drives it through `stream`).
class TestHandler final : public HttpHandler {
 public:
  void Handle(Http1Request request, std::shared_ptr<HttpExchange> exchange) override {
    handled++;
    if (request.target == "/stream") {
      exchange->OnCancel([this] { cancelled++; });
      exchange->BeginStream(200, {{"Content-Type", "text/plain"}});
      std::lock_guard lock(mu);
      stream = exchange;
      return;
    }
    std::string body = absl::StrCat(request.method, " ", request.target, " ", request.body);
    if (request.target == "/late") {
      std::thread([exchange, body] {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        exchange->Respond(200, {}, body);
      }).detach();
      return;
    }
    exchange->Respond(200, {{"Content-Type", "text/plain"}}, body);
  }
  void CountRejected(absl::string_view reason) override {
    std::lock_guard lock(mu);
    rejected.emplace_back(reason);
  }

  std::shared_ptr<HttpExchange> Stream() {
    std::lock_guard lock(mu);
    return stream;
  }
  bool Rejected(const std::string& reason) {
    std::lock_guard lock(mu);
    return std::find(rejected.begin(), rejected.end(), reason) != rejected.end();
  }

  std::atomic<int> handled{0};
  std::atomic<int> cancelled{0};
  std::mutex mu;
  std::shared_ptr<HttpExchange> stream;
  std::vector<std::string> rejected;
};

// A raw TCP client.
class Client {
 public:
  explicit Client(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~Client() { close(fd_); }
  bool connected() const { return connected_; }

  void Send(const std::string& bytes) {
    ASSERT_EQ(send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(bytes.size()));
  }
  // Reads until `until` appears in what was read, the peer closes, or 5 s pass.
  std::string ReadUntil(const std::string& until) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!absl::StrContains(read_, until) && !closed_ && std::chrono::steady_clock::now() < end) {
      ReadSome(100);
    }
    return read_;
  }
  // True once the server closed the connection (within 5 s).
  bool Closed() {
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!closed_ && std::chrono::steady_clock::now() < end) {
      ReadSome(100);
    }
    return closed_;
  }
  const std::string& read() const { return read_; }
  int fd() const { return fd_; }

 private:
  void ReadSome(int timeout_ms) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) <= 0) {
      return;
    }
    char buf[65536];
    ssize_t n = recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) {
      closed_ = true;
      return;
    }
    read_.append(buf, static_cast<size_t>(n));
  }

  int fd_;
  bool connected_ = false;
  bool closed_ = false;
  std::string read_;
};

int Count(const std::string& text, const std::string& what) {
  int n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) {
    ++n;
  }
  return n;
}

class Http1ServerTest : public ::testing::Test {
 protected:
  void Start(Http1ServerOptions options = {}) {
    options.listen = "127.0.0.1:0";
    options.clock = &clock_;
    server_ = std::make_unique<Http1Server>(handler_, options);
    ASSERT_TRUE(server_->Listen().ok());
    server_->Start();
  }
  void TearDown() override {
    if (server_ != nullptr) {
      server_->Shutdown(absl::Seconds(1));
    }
  }
  // Lets the server take in what was sent, moves the fake clock, then waits for the loops'
  // ticks (every 100 ms) to see it.
  void Advance(absl::Duration d) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    clock_.Advance(d);
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }

  testing::FakeClock clock_;
  TestHandler handler_;
  std::unique_ptr<Http1Server> server_;
};

TEST_F(Http1ServerTest, AnswersKeepAliveRequestsInOrder) {
  Start();
  Client c(server_->port());
  ASSERT_TRUE(c.connected());
  c.Send("GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string got = c.ReadUntil("GET /a ");
  EXPECT_TRUE(absl::StartsWith(got, "HTTP/1.1 200 OK\r\n")) << got;
  EXPECT_TRUE(absl::StrContains(got, "Content-Length: 7\r\n")) << got;
  c.Send("POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
  got = c.ReadUntil("POST /b hello");
  EXPECT_TRUE(absl::StrContains(got, "POST /b hello")) << got;
  EXPECT_EQ(handler_.handled.load(), 2);
}

TEST_F(Http1ServerTest, PipelinedRequestsAreAnsweredInOrderEvenWhenTheFirstIsLate) {
  Start();
  Client c(server_->port());
  c.Send(
      "GET /late HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /second HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /third HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  std::string got = c.ReadUntil("GET /third ");
  const size_t late = got.find("GET /late ");
  const size_t second = got.find("GET /second ");
  const size_t third = got.find("GET /third ");
  ASSERT_NE(late, std::string::npos) << got;
  EXPECT_LT(late, second);
  EXPECT_LT(second, third);
  EXPECT_TRUE(absl::StrContains(got, "Connection: close\r\n"));
  EXPECT_TRUE(c.Closed());
}

// On another server's running loop (the gateway serves HTTP/1.1 on the relay's): requests
// are served, answers made from the loop's own thread go out without a wake-up, and after
// Shutdown the loop runs on for its owner, with nothing of the server left on it.
TEST(Http1ServerSharedLoopTest, ServesOnAnotherServersLoopAndLeavesItRunning) {
  EventLoop loop;
  std::atomic<int> wakes{0};
  loop.SetOnWake([&] { wakes++; });
  loop.Start();
  // Answers from the loop's thread, as a backend call finished on the loop does.
  class OnLoop final : public HttpHandler {
   public:
    explicit OnLoop(EventLoop& loop) : loop_(loop) {}
    void Handle(Http1Request request, std::shared_ptr<HttpExchange> exchange) override {
      on_loop = on_loop && loop_.OnLoopThread();
      loop_.Post([exchange, target = request.target] { exchange->Respond(200, {}, target); });
    }
    bool on_loop = true;

   private:
    EventLoop& loop_;
  } handler(loop);
  Http1ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.loops = {&loop};
  auto server = std::make_unique<Http1Server>(handler, options);
  ASSERT_TRUE(server->Listen().ok());
  server->Start();
  const int wakes_before = wakes.load();
  {
    Client c(server->port());
    for (int i = 0; i < 20; ++i) {
      c.Send(absl::StrCat("GET /r", i, " HTTP/1.1\r\nHost: x\r\n\r\n"));
      const std::string got = c.ReadUntil(absl::StrCat("/r", i));
      EXPECT_TRUE(absl::EndsWith(got, absl::StrCat("/r", i))) << got;
    }
  }
  EXPECT_TRUE(handler.on_loop);
  EXPECT_EQ(wakes.load(), wakes_before);  // 20 requests, 20 answers: no wake-up
  Client open(server->port());
  ASSERT_TRUE(open.connected());
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const int port = server->port();
  server->Shutdown(absl::Milliseconds(100));
  server.reset();
  EXPECT_TRUE(open.Closed());
  Client refused(port);
  EXPECT_FALSE(refused.connected());
  std::promise<void> still;
  loop.Post([&] { still.set_value(); });
  EXPECT_EQ(still.get_future().wait_for(std::chrono::seconds(2)), std::future_status::ready);
}

TEST_F(Http1ServerTest, HeadGetsTheHeadersOnly) {
  Start();
  Client c(server_->port());
  c.Send("HEAD /h HTTP/1.1\r\nHost: x\r\n\r\nGET /g HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string got = c.ReadUntil("GET /g ");
  EXPECT_FALSE(absl::StrContains(got, "HEAD /h ")) << got;
  EXPECT_EQ(Count(got, "HTTP/1.1 200"), 2) << got;
}

TEST_F(Http1ServerTest, ABodyTooLargeIsRefusedBeforeItIsRead) {
  Http1ServerOptions options;
  options.limits.max_body_bytes = 1000;
  Start(options);
  Client c(server_->port());
  c.Send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n");
  std::string got = c.ReadUntil("\r\n\r\n");
  EXPECT_TRUE(absl::StartsWith(got, "HTTP/1.1 413 ")) << got;
  EXPECT_TRUE(c.Closed());
  EXPECT_EQ(handler_.handled.load(), 0);
}

TEST_F(Http1ServerTest, ExpectContinueIsAnswered) {
  Start();
  Client c(server_->port());
  c.Send("POST /c HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n");
  std::string got = c.ReadUntil("100 Continue\r\n\r\n");
  EXPECT_EQ(got, "HTTP/1.1 100 Continue\r\n\r\n");
  c.Send("abc");
  got = c.ReadUntil("POST /c abc");
  EXPECT_TRUE(absl::StrContains(got, "HTTP/1.1 200 OK")) << got;
}

TEST_F(Http1ServerTest, MalformedRequestsGetTheirStatusThenClose) {
  Start();
  Client c(server_->port());
  c.Send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n");
  std::string got = c.ReadUntil("\r\n\r\n");
  EXPECT_TRUE(absl::StartsWith(got, "HTTP/1.1 400 ")) << got;
  EXPECT_TRUE(c.Closed());
  EXPECT_TRUE(handler_.Rejected("malformed"));
}

TEST_F(Http1ServerTest, ARequestTrickledInIsTimedOut) {
  Http1ServerOptions options;
  options.request_timeout = absl::Seconds(10);
  Start(options);
  Client c(server_->port());
  c.Send("GET / HTTP/1.1\r\nHost: x\r\n");
  Advance(absl::Seconds(6));
  c.Send("X-A: 1\r\n");  // a line now and then does not extend the request's time
  Advance(absl::Seconds(5));
  std::string got = c.ReadUntil("\r\n\r\n");
  EXPECT_TRUE(absl::StartsWith(got, "HTTP/1.1 408 ")) << got;
  EXPECT_TRUE(c.Closed());
  EXPECT_TRUE(handler_.Rejected("request_timeout"));
}

TEST_F(Http1ServerTest, SilentAndIdleConnectionsAreClosed) {
  Http1ServerOptions options;
  options.first_request_timeout = absl::Seconds(10);
  options.idle_timeout = absl::Seconds(60);
  Start(options);
  Client silent(server_->port());
  Client used(server_->port());
  used.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  used.ReadUntil("GET / ");
  Advance(absl::Seconds(11));
  EXPECT_TRUE(silent.Closed());
  Advance(absl::Seconds(30));
  used.Send("GET /again HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_TRUE(absl::StrContains(used.ReadUntil("GET /again"), "GET /again"));
  Advance(absl::Seconds(61));
  EXPECT_TRUE(used.Closed());
  EXPECT_EQ(server_->connections(), 0u);
}

TEST_F(Http1ServerTest, AStreamIsChunkedAndItsClientLeavingCancelsIt) {
  Start();
  auto c = std::make_unique<Client>(server_->port());
  c->Send("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string got = c->ReadUntil("\r\n\r\n");
  EXPECT_TRUE(absl::StrContains(got, "Transfer-Encoding: chunked\r\n")) << got;
  std::shared_ptr<HttpExchange> stream = handler_.Stream();
  ASSERT_NE(stream, nullptr);
  EXPECT_TRUE(stream->Write("one\n"));
  EXPECT_TRUE(stream->Write("two\n"));
  got = c->ReadUntil("4\r\ntwo\n\r\n");
  EXPECT_TRUE(absl::StrContains(got, "4\r\none\n\r\n4\r\ntwo\n\r\n")) << got;
  c.reset();
  for (int i = 0; i < 50 && handler_.cancelled.load() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(handler_.cancelled.load(), 1);
  EXPECT_FALSE(stream->Write("three\n"));
}

TEST_F(Http1ServerTest, AStreamEndsWithTheLastChunkAndTheConnectionGoesOn) {
  Start();
  Client c(server_->port());
  c.Send("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
  c.ReadUntil("\r\n\r\n");
  std::shared_ptr<HttpExchange> stream = handler_.Stream();
  ASSERT_NE(stream, nullptr);
  stream->Write("only\n");
  stream->End();
  std::string got = c.ReadUntil("0\r\n\r\n");
  EXPECT_TRUE(absl::StrContains(got, "5\r\nonly\n\r\n0\r\n\r\n")) << got;
  c.Send("GET /next HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_TRUE(absl::StrContains(c.ReadUntil("GET /next "), "GET /next "));
  EXPECT_EQ(handler_.cancelled.load(), 0);
}

TEST_F(Http1ServerTest, AStreamsReaderThatDoesNotReadIsClosed) {
  Http1ServerOptions options;
  options.max_stream_backlog = 256 * 1024;
  Start(options);
  Client c(server_->port());
  int small = 4096;
  setsockopt(c.fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  c.Send("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
  c.ReadUntil("\r\n\r\n");
  std::shared_ptr<HttpExchange> stream = handler_.Stream();
  ASSERT_NE(stream, nullptr);
  const std::string chunk(64 * 1024, 'x');
  bool refused = false;
  for (int i = 0; i < 400 && !refused; ++i) {  // at most 25 MiB
    refused = !stream->Write(chunk);
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  EXPECT_TRUE(refused);
  EXPECT_TRUE(handler_.Rejected("slow_reader"));
  EXPECT_EQ(handler_.cancelled.load(), 1);
}

TEST_F(Http1ServerTest, AResponseNobodyReadsIsTimedOut) {
  Http1ServerOptions options;
  options.stall_timeout = absl::Seconds(10);
  Start(options);
  Client c(server_->port());
  int small = 4096;
  setsockopt(c.fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  c.Send("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
  std::shared_ptr<HttpExchange> stream;
  for (int i = 0; i < 100 && stream == nullptr; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    stream = handler_.Stream();
  }
  ASSERT_NE(stream, nullptr);
  for (int i = 0; i < 64; ++i) {  // 4 MiB: more than the socket buffers take
    stream->Write(std::string(64 * 1024, 'x'));
  }
  Advance(absl::Seconds(11));
  EXPECT_TRUE(handler_.Rejected("stalled"));
  EXPECT_EQ(handler_.cancelled.load(), 1);
}

TEST_F(Http1ServerTest, ConnectionsFromOneAddressAreLimited) {
  Http1ServerOptions options;
  options.max_connections_per_address = 2;
  Start(options);
  Client a(server_->port());
  Client b(server_->port());
  Client c(server_->port());
  EXPECT_TRUE(c.Closed());
  a.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_TRUE(absl::StrContains(a.ReadUntil("GET / "), "200 OK"));
  EXPECT_TRUE(handler_.Rejected("connections"));
}

TEST_F(Http1ServerTest, OutOfFileDescriptorsTheServerWaitsInsteadOfSpinning) {
  Start();
  EXPECT_LT(testing::CpuSecondOutOfDescriptors(server_->port()),
            0.2);  // not a core spinning on accept
  EXPECT_TRUE(handler_.Rejected("descriptors"));
  Client c(server_->port());
  c.Send("GET /after HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_TRUE(absl::StrContains(c.ReadUntil("GET /after "), "200 OK"));
}

TEST_F(Http1ServerTest, ShutdownClosesIdleConnectionsAndFinishesTheRest) {
  Start();
  Client idle(server_->port());
  Client busy(server_->port());
  idle.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  idle.ReadUntil("GET / ");
  busy.Send("GET /late HTTP/1.1\r\nHost: x\r\n\r\n");
  for (int i = 0; i < 100 && handler_.handled.load() < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  server_->Shutdown(absl::Seconds(2));
  server_.reset();
  EXPECT_TRUE(idle.Closed());
  std::string got = busy.ReadUntil("GET /late ");
  EXPECT_TRUE(absl::StrContains(got, "GET /late ")) << got;
  EXPECT_TRUE(absl::StrContains(got, "Connection: close")) << got;
  EXPECT_TRUE(busy.Closed());
}

}  // namespace
}  // namespace accord::frontdoor
