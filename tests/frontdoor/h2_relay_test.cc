// The relay's local calls at the HTTP/2 level, with a client of nghttp2 on a real loopback
// socket: what gRPC clients cannot show (their own deadlines and flow control hide the
// server's). Deadlines enforced by the server, back-pressure on a caller that does not read,
// compressed messages that are corrupt or inflate past the limit.
#include "frontdoor/h2_relay.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

#include "frontdoor/http1_server.h"
#include "tests/testing/descriptors.h"
#include "tests/testing/fake_clock.h"
#include <nghttp2/nghttp2.h>

namespace accord {
namespace {

// Answers each message with `copies` copies of it.
class Echo final : public LocalMethod {
 public:
  explicit Echo(size_t copies) : copies_(copies) {}
  std::unique_ptr<LocalCall> Begin() override { return std::make_unique<Call>(copies_); }

 private:
  class Call final : public LocalCall {
   public:
    explicit Call(size_t copies) : copies_(copies) {}
    absl::Status OnMessage(absl::string_view message, std::string& out) override {
      AppendMessage(out, [&](std::string& payload) {
        for (size_t i = 0; i < copies_; ++i) {
          payload.append(message.data(), message.size());
        }
      });
      return absl::OkStatus();
    }
    absl::Status OnHalfClose() override { return absl::OkStatus(); }

   private:
    size_t copies_;
  };
  size_t copies_;
};

// A call the test answers from its own thread through the call's LocalPush.
class Pusher final : public LocalMethod {
 public:
  std::unique_ptr<LocalCall> Begin() override { return std::make_unique<Call>(this); }
  // The push of the latest call, once it has its request message.
  std::shared_ptr<LocalPush> push() {
    std::lock_guard lock(mu_);
    return push_;
  }

 private:
  class Call final : public LocalCall {
   public:
    explicit Call(Pusher* owner) : owner_(owner) {}
    bool Attach(std::shared_ptr<LocalPush> push) override {
      push_ = std::move(push);
      return true;
    }
    absl::Status OnMessage(absl::string_view, std::string&) override {
      std::lock_guard lock(owner_->mu_);
      owner_->push_ = push_;
      return absl::OkStatus();
    }
    absl::Status OnHalfClose() override { return absl::InternalError("not called"); }

   private:
    Pusher* owner_;
    std::shared_ptr<LocalPush> push_;
  };
  std::mutex mu_;
  std::shared_ptr<LocalPush> push_;
};

// Counts the tickets of admitted calls still held.
class CountedTicket final : public RelayTicket {
 public:
  explicit CountedTicket(std::atomic<int>& held) : held_(held) { ++held_; }
  ~CountedTicket() override { --held_; }

 private:
  std::atomic<int>& held_;
};

class Routes final : public RelayRoutes {
 public:
  // `answer_relayed`: this relay is the backend, and answers /t.T/Relayed with its Echo.
  explicit Routes(bool answer_relayed = false) {
    relayed_.path = "/t.T/Relayed";
    relayed_.backend = answer_relayed ? -1 : 0;
    relayed_.local = answer_relayed ? &echo_method_ : nullptr;
    relayed_.unary = false;
    push_.path = "/t.T/Push";
    push_.local = &pusher;
    push_.unary = false;
    echo_.path = "/t.T/Echo";
    echo_.local = &echo_method_;
    echo_.unary = false;
    big_.path = "/t.T/Big";
    big_.local = &big_method_;
    big_.unary = false;
  }
  const RelayRoute* Find(absl::string_view path) const override {
    return path == echo_.path      ? &echo_
           : path == big_.path     ? &big_
           : path == push_.path    ? &push_
           : path == relayed_.path ? &relayed_
                                   : nullptr;
  }
  absl::StatusOr<std::unique_ptr<RelayTicket>> Admit(const RelayRoute&,
                                                     const CallerHeaders& caller) override {
    if (caller.repeated_authorization) {
      return absl::UnauthenticatedError("repeated");
    }
    if (caller.authorization != "Bearer ok") {
      return absl::UnauthenticatedError("no");
    }
    return std::make_unique<CountedTicket>(held);
  }
  std::vector<RelayHeader> BackendHeaders(const CallerHeaders&) const override {
    return {{"authorization", "Bearer ok"}};
  }

  std::atomic<int> held{0};  // tickets of calls not ended

 private:
  Echo echo_method_{1};
  Echo big_method_{64};  // a 1 KiB message answered with 64 KiB
  RelayRoute echo_;
  RelayRoute big_;
  RelayRoute push_;
  RelayRoute relayed_;  // to the Echo of another relay (backend 0)

 public:
  Pusher pusher;
};

// One HTTP/2 client connection, driven by Pump().
class Client {
 public:
  struct Stream {
    std::map<std::string, std::string> headers;  // response headers and trailers
    std::string data;
    size_t consumed = 0;  // of `data`, given back as window
    bool closed = false;
    std::string to_send;
    bool end_after = false;
  };

  Client(int port, bool consume_received) : consume_(consume_received) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    nghttp2_session_callbacks* cb = nullptr;
    nghttp2_session_callbacks_new(&cb);
    nghttp2_session_callbacks_set_on_header_callback(
        cb, [](nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name, size_t nlen,
               const uint8_t* value, size_t vlen, uint8_t, void* user) {
          auto* self = static_cast<Client*>(user);
          self->streams_[frame->hd.stream_id]
              .headers[std::string(reinterpret_cast<const char*>(name), nlen)] =
              std::string(reinterpret_cast<const char*>(value), vlen);
          return 0;
        });
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(
        cb, [](nghttp2_session* session, uint8_t, int32_t id, const uint8_t* data, size_t len,
               void* user) {
          auto* self = static_cast<Client*>(user);
          Stream& s = self->streams_[id];
          s.data.append(reinterpret_cast<const char*>(data), len);
          if (self->consume_) {
            nghttp2_session_consume(session, id, len);
            s.consumed += len;
          }
          return 0;
        });
    nghttp2_session_callbacks_set_on_stream_close_callback(
        cb, [](nghttp2_session*, int32_t id, uint32_t, void* user) {
          static_cast<Client*>(user)->streams_[id].closed = true;
          return 0;
        });
    nghttp2_option* option = nullptr;
    nghttp2_option_new(&option);
    nghttp2_option_set_no_auto_window_update(option, 1);
    nghttp2_session_client_new2(&session_, cb, this, option);
    nghttp2_option_del(option);
    nghttp2_session_callbacks_del(cb);
    nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, nullptr, 0);
  }
  ~Client() {
    nghttp2_session_del(session_);
    close(fd_);
  }

  // Opens a gRPC call to `path` with the test's key and `extra` headers; `body` (whole gRPC
  // messages) is sent as the window allows.
  int32_t Call(const std::string& path, const std::string& body, bool end,
               std::vector<std::pair<std::string, std::string>> extra = {}) {
    std::vector<std::pair<std::string, std::string>> h = {{"content-type", "application/grpc"},
                                                          {"te", "trailers"}};
    h.insert(h.end(), extra.begin(), extra.end());
    if (std::none_of(extra.begin(), extra.end(),
                     [](const auto& e) { return e.first == "authorization"; })) {
      h.emplace_back("authorization", "Bearer ok");
    }
    return Request("POST", path, std::move(h), body, end);
  }
  // Opens a request of any kind: `method` `path` with `headers` besides the pseudo-headers.
  int32_t Request(const std::string& method, const std::string& path,
                  std::vector<std::pair<std::string, std::string>> headers, const std::string& body,
                  bool end) {
    std::vector<std::pair<std::string, std::string>> h = {
        {":method", method}, {":scheme", "http"}, {":path", path}, {":authority", "relay"}};
    h.insert(h.end(), headers.begin(), headers.end());
    std::vector<nghttp2_nv> nv;
    for (auto& [n, v] : h) {
      nv.push_back({reinterpret_cast<uint8_t*>(n.data()), reinterpret_cast<uint8_t*>(v.data()),
                    n.size(), v.size(), NGHTTP2_NV_FLAG_NONE});
    }
    nghttp2_data_provider provider{};
    provider.read_callback = [](nghttp2_session*, int32_t id, uint8_t* buf, size_t length,
                                uint32_t* flags, nghttp2_data_source*, void* user) -> ssize_t {
      Stream& s = static_cast<Client*>(user)->streams_[id];
      const size_t n = std::min(length, s.to_send.size());
      std::memcpy(buf, s.to_send.data(), n);
      s.to_send.erase(0, n);
      if (s.to_send.empty()) {
        if (s.end_after) {
          *flags |= NGHTTP2_DATA_FLAG_EOF;
        } else if (n == 0) {
          return NGHTTP2_ERR_DEFERRED;
        }
      }
      return static_cast<ssize_t>(n);
    };
    // A GET with nothing to send ends the stream with its HEADERS; a POST with an empty DATA.
    const bool headers_only = end && body.empty() && method != "POST";
    int32_t id = nghttp2_submit_request(session_, nullptr, nv.data(), nv.size(),
                                        headers_only ? nullptr : &provider, nullptr);
    streams_[id].to_send = body;
    streams_[id].end_after = end;
    return id;
  }
  // More of the request (and maybe its end).
  void Send(int32_t id, const std::string& body, bool end) {
    streams_[id].to_send += body;
    streams_[id].end_after = end;
    nghttp2_session_resume_data(session_, id);
  }
  // Reads the bytes received but not consumed yet, as a caller that reads again.
  void ConsumeAll(int32_t id) {
    consume_ = true;
    Stream& s = streams_[id];
    if (s.data.size() > s.consumed) {
      nghttp2_session_consume(session_, id, s.data.size() - s.consumed);
      s.consumed = s.data.size();
    }
  }
  // 16 MiB of window for the connection and `id`.
  void Widen(int32_t id) {
    nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0, 16 << 20);
    nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, id, 16 << 20);
  }
  Stream& stream(int32_t id) { return streams_[id]; }
  // The server closed the connection.
  bool eof() const { return eof_; }
  bool AllClosed(const std::vector<int32_t>& ids) {
    return std::all_of(ids.begin(), ids.end(), [&](int32_t id) { return streams_[id].closed; });
  }
  // Resets stream `id` (the client leaves the call).
  void Reset(int32_t id) {
    nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL);
  }
  int32_t SendWindow(int32_t id) {
    return nghttp2_session_get_stream_remote_window_size(session_, id);
  }

  // Exchanges frames until `done` or `seconds` pass.
  bool Pump(const std::function<bool()>& done, double seconds) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    for (;;) {
      const uint8_t* out = nullptr;
      ssize_t n;
      while ((n = nghttp2_session_mem_send(session_, &out)) > 0) {
        if (send(fd_, out, n, MSG_NOSIGNAL) != n) {
          return false;
        }
      }
      if (done()) {
        return true;
      }
      if (std::chrono::steady_clock::now() > until) {
        return false;
      }
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 20) > 0) {
        char buf[65536];
        ssize_t r = read(fd_, buf, sizeof buf);
        if (r <= 0) {
          eof_ = true;
          return done();
        }
        nghttp2_session_mem_recv(session_, reinterpret_cast<uint8_t*>(buf), r);
      }
    }
  }

 private:
  int fd_;
  bool eof_ = false;
  bool consume_;
  nghttp2_session* session_ = nullptr;
  std::map<int32_t, Stream> streams_;
};

std::string Framed(const std::string& payload, bool compressed = false) {
  std::string out(1, compressed ? '\1' : '\0');
  for (int i = 3; i >= 0; --i) {
    out.push_back(static_cast<char>((payload.size() >> (8 * i)) & 0xff));
  }
  return out + payload;
}

std::string Gzip(const std::string& data) {
  z_stream z{};
  deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 9, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, data.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

class H2RelayTest : public ::testing::Test {
 protected:
  virtual RelayOptions Options() {
    RelayOptions options;
    options.listen = "127.0.0.1:0";
    options.threads = 2;
    options.workers = 1;
    options.worker_min_bytes = 512;
    options.max_push_backlog = 256 * 1024;
    return options;
  }
  void SetUp() override {
    relay_ = std::make_unique<H2Relay>(routes_, Options(), nullptr);
    ASSERT_TRUE(relay_->Listen().ok());
    relay_->Start("127.0.0.1:1");
  }
  void TearDown() override { relay_->Shutdown(absl::ZeroDuration()); }

  Routes routes_;
  std::unique_ptr<H2Relay> relay_;
};

TEST_F(H2RelayTest, EchoesMessagesInOrderOnLoopsAndWorkers) {
  Client client(relay_->port(), true);
  const std::string small = Framed("hello");
  const std::string large = Framed(std::string(2000, 'x'));  // on the worker
  int32_t id = client.Call("/t.T/Echo", small + large + small, true);
  ASSERT_TRUE(client.Pump([&] { return client.stream(id).closed; }, 5));
  EXPECT_EQ(client.stream(id).headers["grpc-status"], "0");
  EXPECT_EQ(client.stream(id).data, small + large + small);
}

TEST_F(H2RelayTest, TheServerEndsACallAtItsDeadline) {
  Client client(relay_->port(), true);
  const auto start = std::chrono::steady_clock::now();
  int32_t id = client.Call("/t.T/Echo", Framed("a"), false, {{"grpc-timeout", "200m"}});
  ASSERT_TRUE(client.Pump([&] { return client.stream(id).headers.count("grpc-status") > 0; }, 5));
  EXPECT_EQ(client.stream(id).headers["grpc-status"], "4");  // DEADLINE_EXCEEDED
  EXPECT_EQ(client.stream(id).data, Framed("a"));            // what was answered before it
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

TEST_F(H2RelayTest, RefusedCallsGetTrailersOnly) {
  Client client(relay_->port(), true);
  int32_t id = client.Call("/t.T/Echo", Framed("a"), true, {{"authorization", "Bearer no"}});
  ASSERT_TRUE(client.Pump([&] { return client.stream(id).closed; }, 5));
  EXPECT_EQ(client.stream(id).headers["grpc-status"], "16");  // UNAUTHENTICATED
  EXPECT_EQ(client.stream(id).headers[":status"], "200");
  EXPECT_EQ(client.stream(id).data, "");
}

TEST_F(H2RelayTest, ACallerThatDoesNotReadIsStoppedByItsWindowThenResumes) {
  Client client(relay_->port(), false);  // receives, but gives no window back
  const std::string message = Framed(std::string(1024, 'm'));
  int32_t id = client.Call("/t.T/Big", "", false);
  size_t sent = 0;
  // Keep offering messages: each is answered with 64 KiB the caller never takes.
  std::string many;
  for (int i = 0; i < 16; ++i) {
    many += message;
  }
  for (int round = 0; round < 200; ++round) {
    client.Send(id, many, false);
    sent += many.size();
    client.Pump([] { return false; }, 0.02);
    if (client.SendWindow(id) <= 0) {
      break;
    }
  }
  client.Pump([] { return false; }, 0.3);
  // The server stopped crediting: the caller cannot send. What it sent is bounded by what
  // had arrived when the responses backed up (1 MiB of them) plus one stream window (1 MiB).
  EXPECT_LE(client.SendWindow(id), 0);
  const size_t transmitted = sent - client.stream(id).to_send.size();
  EXPECT_GT(client.stream(id).to_send.size(), 0u);  // the rest waits in the caller
  EXPECT_LT(transmitted, (size_t{2} << 20) + many.size());
  const size_t answered_while_stuck = client.stream(id).data.size();
  EXPECT_LT(answered_while_stuck, size_t{128} * 1024);  // the caller's 64 KiB window, about

  // The caller reads again (with a larger window) and finishes: every message is answered.
  client.Send(id, "", true);
  client.Widen(id);
  ASSERT_TRUE(client.Pump(
      [&] {
        client.ConsumeAll(id);
        return client.stream(id).closed;
      },
      10));
  EXPECT_EQ(client.stream(id).headers["grpc-status"], "0");
  EXPECT_EQ(client.stream(id).data.size(), sent / message.size() * (5 + 64 * 1024));
}

TEST_F(H2RelayTest, CompressedMessagesAreInflatedWithinTheLimit) {
  Client client(relay_->port(), true);
  const std::vector<std::pair<std::string, std::string>> gzip = {{"grpc-encoding", "gzip"}};
  auto status = [&](const std::string& body, const auto& headers) {
    int32_t id = client.Call("/t.T/Echo", body, true, headers);
    EXPECT_TRUE(client.Pump([&] { return client.stream(id).closed; }, 5));
    return std::make_pair(client.stream(id).headers["grpc-status"], client.stream(id).data);
  };
  EXPECT_EQ(status(Framed(Gzip("hi"), true), gzip), std::make_pair(std::string("0"), Framed("hi")));
  // Inflating past 4 MiB: RESOURCE_EXHAUSTED, however small the compressed message.
  const std::string bomb = Gzip(std::string(5 << 20, '\0'));
  ASSERT_LT(bomb.size(), size_t{64} * 1024);
  EXPECT_EQ(status(Framed(bomb, true), gzip).first, "8");
  EXPECT_EQ(status(Framed("not gzip", true), gzip).first, "3");  // INVALID_ARGUMENT
  // A compressed message without a known grpc-encoding cannot be read.
  EXPECT_EQ(status(Framed(Gzip("hi"), true), decltype(gzip){}).first, "12");  // UNIMPLEMENTED
  EXPECT_EQ(status(Framed(Gzip("hi"), true), decltype(gzip){{"grpc-encoding", "snappy"}}).first,
            "12");
}

TEST_F(H2RelayTest, MessagesOverTheLimitAndCutShortAreRefused) {
  Client client(relay_->port(), true);
  std::string prefix = Framed(std::string(10, 'x')).substr(0, 5);
  prefix[1] = 1;  // a 16 MiB + 10 length
  int32_t id = client.Call("/t.T/Echo", prefix, true);
  ASSERT_TRUE(client.Pump([&] { return client.stream(id).closed; }, 5));
  EXPECT_EQ(client.stream(id).headers["grpc-status"], "8");  // RESOURCE_EXHAUSTED
  id = client.Call("/t.T/Echo", Framed("whole").substr(0, 7), true);
  ASSERT_TRUE(client.Pump([&] { return client.stream(id).closed; }, 5));
  EXPECT_EQ(client.stream(id).headers["grpc-status"], "3");  // INVALID_ARGUMENT
}

// Waits for the pusher's call to have its request (the push arrives on the loop's thread).
std::shared_ptr<LocalPush> WaitForPush(Client& client, Pusher& pusher) {
  std::shared_ptr<LocalPush> push;
  client.Pump(
      [&] {
        push = pusher.push();
        return push != nullptr;
      },
      5);
  return push;
}

TEST_F(H2RelayTest, APushingCallAnswersFromAnotherThreadAfterTheRequestEnds) {
  Client client(relay_->port(), true);
  int32_t id = client.Call("/t.T/Push", Framed("watch"), true);  // the request ends at once
  std::shared_ptr<LocalPush> push = WaitForPush(client, routes_.pusher);
  ASSERT_NE(push, nullptr);
  std::string expected;
  std::thread writer([&] {
    for (int i = 0; i < 200; ++i) {
      std::string message;
      AppendMessage(message, [&](std::string& out) { out += absl::StrCat("m", i); });
      expected += message;
      EXPECT_TRUE(push->Write(std::move(message)));
    }
    H2Relay::PushBatch batch;  // what a batch sends arrives when it closes
    push->Finish(absl::OkStatus());
  });
  ASSERT_TRUE(client.Pump([&] { return client.stream(id).closed; }, 5));
  writer.join();
  EXPECT_EQ(client.stream(id).headers["grpc-status"], "0");
  EXPECT_EQ(client.stream(id).data, expected);  // every message, in order
  // The call has ended: what is written now is dropped.
  for (int i = 0; i < 100 && push->Write(Framed("late")); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_FALSE(push->Write(Framed("late")));
}

TEST_F(H2RelayTest, APushingCallsCallerThatDoesNotReadIsEndedAtTheBacklog) {
  Client client(relay_->port(), false);  // receives, but gives no window back
  int32_t id = client.Call("/t.T/Push", Framed("watch"), true);
  std::shared_ptr<LocalPush> push = WaitForPush(client, routes_.pusher);
  ASSERT_NE(push, nullptr);
  const std::string message = Framed(std::string(16 * 1024, 'p'));
  size_t written = 0;
  for (int i = 0; i < 500; ++i) {
    if (!push->Write(message)) {
      break;
    }
    written += message.size();
    client.Pump([] { return false; }, 0.01);
  }
  // Refused once the unread bytes passed the backlog (256 KiB) beyond what the caller's window
  // took (64 KiB): bounded, not the 8 MB offered.
  EXPECT_LT(written, size_t{1} << 20);
  // The caller reads again: what was accepted, then RESOURCE_EXHAUSTED (WATCHER_TOO_SLOW).
  client.Widen(id);
  ASSERT_TRUE(client.Pump(
      [&] {
        client.ConsumeAll(id);
        return client.stream(id).closed;
      },
      10));
  EXPECT_EQ(client.stream(id).headers["grpc-status"], "8");
  EXPECT_NE(client.stream(id).headers["grpc-message"].find("behind"), std::string::npos);
  EXPECT_LE(client.stream(id).data.size(), written);
}

TEST_F(H2RelayTest, ACancelledPushingCallDropsLaterWrites) {
  Client client(relay_->port(), true);
  int32_t id = client.Call("/t.T/Push", Framed("watch"), false, {{"grpc-timeout", "100m"}});
  std::shared_ptr<LocalPush> push = WaitForPush(client, routes_.pusher);
  ASSERT_NE(push, nullptr);
  ASSERT_TRUE(  // its deadline
      client.Pump([&] { return client.stream(id).headers.count("grpc-status") > 0; }, 5));
  EXPECT_EQ(client.stream(id).headers["grpc-status"], "4");
  bool dropped = false;
  for (int i = 0; i < 100 && !dropped; ++i) {
    dropped = !push->Write(Framed("late"));
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(dropped);
}

// Limits tried as an attacker would: short timeouts and small budgets, so that each shows.
class H2RelayLimitsTest : public H2RelayTest {
 protected:
  RelayOptions Options() override {
    RelayOptions options = H2RelayTest::Options();
    options.stall_timeout = absl::Milliseconds(700);
    options.first_call_timeout = absl::Milliseconds(500);
    options.max_connection_buffer = 1 << 20;
    options.max_connections_per_address = 4;
    options.backends = {{"echo", absl::StrCat("127.0.0.1:", FreePort())}};
    return options;
  }
  // A port nothing listens on (yet).
  static int FreePort() {
    static int port = [] {
      int fd = socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
      socklen_t length = sizeof a;
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &length);
      close(fd);
      return static_cast<int>(ntohs(a.sin_port));
    }();
    return port;
  }
  // A call that must still be served.
  void ExpectServed(Client& client) {
    int32_t id = client.Call("/t.T/Echo", Framed("ok"), true);
    ASSERT_TRUE(client.Pump([&] { return client.stream(id).closed; }, 5));
    EXPECT_EQ(client.stream(id).headers["grpc-status"], "0");
    EXPECT_EQ(client.stream(id).data, Framed("ok"));
  }
};

TEST_F(H2RelayLimitsTest, ACallerThatDoesNotReadIsResetAtItsDeadlineAndGivesItsSlotBack) {
  Client client(relay_->port(), false);  // gives no window back
  std::string many;
  for (int i = 0; i < 32; ++i) {
    many += Framed(std::string(1024, 'm'));  // each answered with 64 KiB
  }
  int32_t id = client.Call("/t.T/Big", many, true, {{"grpc-timeout", "300m"}});
  client.Pump([] { return false; }, 0.1);
  EXPECT_EQ(routes_.held.load(), 1);
  // Its response cannot all go out (a 64 KiB window): at the deadline the stream is reset, and
  // the call's slot is free, although the caller never read.
  ASSERT_TRUE(client.Pump([&] { return client.stream(id).closed; }, 3));
  EXPECT_EQ(client.stream(id).headers.count("grpc-status"), 0u);
  EXPECT_EQ(routes_.held.load(), 0);
}

TEST_F(H2RelayLimitsTest, ACallerThatStopsReadingIsResetAfterTheStallTimeout) {
  Client client(relay_->port(), false);
  std::string many;
  for (int i = 0; i < 32; ++i) {
    many += Framed(std::string(1024, 'm'));
  }
  int32_t id = client.Call("/t.T/Big", many, true);  // no deadline
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(client.Pump([&] { return client.stream(id).closed; }, 5));
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(600));
  EXPECT_EQ(routes_.held.load(), 0);
  client.ConsumeAll(id);
  ExpectServed(client);
}

TEST_F(H2RelayLimitsTest, AMessageLeftHalfSentIsEndedAndItsBytesGoBack) {
  Client client(relay_->port(), true);
  std::string half = Framed(std::string(3 << 20, 'h'));
  half.resize(half.size() / 2);
  int32_t id = client.Call("/t.T/Echo", half, false);
  ASSERT_TRUE(client.Pump([&] { return client.stream(id).closed; }, 5));
  EXPECT_EQ(client.stream(id).headers["grpc-status"], "8");  // RESOURCE_EXHAUSTED
  EXPECT_NE(client.stream(id).headers["grpc-message"].find("stopped inside a message"),
            std::string::npos);
  EXPECT_EQ(routes_.held.load(), 0);
  ExpectServed(client);  // the connection's window came back
}

TEST_F(H2RelayLimitsTest, ManyLargeMessagesOnOneConnectionAreHeldAtTheBufferBudget) {
  Client client(relay_->port(), true);
  // Twelve streams each send 2.5 MiB of a 3 MiB message and stop: 30 MiB offered. Within the
  // budget (1 MiB) only the largest message gets credit; the rest stop at their windows.
  std::string most = Framed(std::string(3 << 20, 'b'));
  most.resize((5 << 20) / 2);
  std::vector<int32_t> ids;
  size_t offered = 0;
  for (int i = 0; i < 12; ++i) {
    ids.push_back(client.Call("/t.T/Echo", most, false));
    offered += most.size();
  }
  client.Pump([] { return false; }, 0.4);
  size_t waiting = 0;
  for (int32_t id : ids) {
    waiting += client.stream(id).to_send.size();
  }
  const size_t transmitted = offered - waiting;
  EXPECT_LT(transmitted, size_t{18} << 20);  // 12 windows of 1 MiB, and the largest's 2.5 MiB
  // Then each is ended by the stall timeout, and the connection serves calls again.
  ASSERT_TRUE(client.Pump([&] { return client.AllClosed(ids); }, 5));
  for (int32_t id : ids) {
    EXPECT_EQ(client.stream(id).headers["grpc-status"], "8");
  }
  ExpectServed(client);
}

TEST_F(H2RelayLimitsTest, ManyLargeMessagesSentWholeAllComplete) {
  // The budget holds bytes back but never stops whole messages: one always completes.
  Client client(relay_->port(), true);
  const std::string message = Framed(std::string(3 << 20, 'w'));
  std::vector<int32_t> ids;
  for (int i = 0; i < 6; ++i) {
    ids.push_back(client.Call("/t.T/Echo", message, true));
  }
  client.Widen(ids[0]);
  ASSERT_TRUE(client.Pump([&] { return client.AllClosed(ids); }, 10));
  for (int32_t id : ids) {
    EXPECT_EQ(client.stream(id).headers["grpc-status"], "0");
    EXPECT_EQ(client.stream(id).data.size(), message.size());
  }
}

// The budget over every connection: large messages reserve their length before more credit.
class H2RelayProcessBufferTest : public H2RelayLimitsTest {
 protected:
  RelayOptions Options() override {
    RelayOptions options = H2RelayLimitsTest::Options();
    options.max_connection_buffer = 64 << 20;  // not what is tried here
    options.max_process_buffer = 4 << 20;
    return options;
  }
};

TEST_F(H2RelayProcessBufferTest, AMessageWaitsForTheBudgetAHalfSentOneHoldsThenCompletes) {
  // An attacker sends 2.5 MiB of a 3 MiB message and stops: it holds 3 MiB of the 4.
  Client attacker(relay_->port(), true);
  std::string most = Framed(std::string(3 << 20, 'a'));
  most.resize((5 << 20) / 2);
  const int32_t a = attacker.Call("/t.T/Echo", most, false);
  attacker.Pump([] { return false; }, 0.3);
  // Another connection's whole 3 MiB message waits at its window (it is not ended as stalled:
  // the front end holds it) until the attacker's call is ended, then completes.
  Client good(relay_->port(), true);
  const std::string whole = Framed(std::string(3 << 20, 'g'));
  const auto start = std::chrono::steady_clock::now();
  const int32_t g = good.Call("/t.T/Echo", whole, true);
  ASSERT_TRUE(good.Pump([&] { return good.stream(g).closed; }, 5));
  EXPECT_EQ(good.stream(g).headers["grpc-status"], "0");
  EXPECT_EQ(good.stream(g).data.size(), whole.size());
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(300));
  ASSERT_TRUE(attacker.Pump([&] { return attacker.stream(a).closed; }, 5));
  EXPECT_EQ(attacker.stream(a).headers["grpc-status"], "8");
  EXPECT_EQ(routes_.held.load(), 0);
}

TEST_F(H2RelayProcessBufferTest, MessagesLargerTogetherThanTheBudgetAllComplete) {
  // Three connections, each with a whole 3 MiB message: they take the budget in turn.
  std::vector<std::unique_ptr<Client>> clients;
  std::vector<int32_t> ids;
  const std::string message = Framed(std::string(3 << 20, 'w'));
  for (int i = 0; i < 3; ++i) {
    clients.push_back(std::make_unique<Client>(relay_->port(), true));
    ids.push_back(clients.back()->Call("/t.T/Echo", message, true));
  }
  for (int round = 0; round < 100; ++round) {
    bool all = true;
    for (int i = 0; i < 3; ++i) {
      clients[i]->Pump([] { return false; }, 0.02);
      all = all && clients[i]->stream(ids[i]).closed;
    }
    if (all) {
      break;
    }
  }
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(clients[i]->stream(ids[i]).headers["grpc-status"], "0") << i;
    EXPECT_EQ(clients[i]->stream(ids[i]).data.size(), message.size()) << i;
  }
}

// HPACK by hand (RFC 7541): an integer with an N-bit prefix, and a string without Huffman.
void HpackInt(std::string& out, uint8_t first, int bits, size_t value) {
  const size_t max = (size_t{1} << bits) - 1;
  if (value < max) {
    out.push_back(static_cast<char>(first | value));
    return;
  }
  out.push_back(static_cast<char>(first | max));
  for (value -= max; value >= 128; value >>= 7) {
    out.push_back(static_cast<char>((value & 0x7f) | 0x80));
  }
  out.push_back(static_cast<char>(value));
}
void HpackString(std::string& out, const std::string& text) {
  HpackInt(out, 0, 7, text.size());
  out += text;
}
// An HTTP/2 frame.
std::string Frame(uint8_t type, uint8_t flags, uint32_t stream, const std::string& payload) {
  std::string f = {static_cast<char>(payload.size() >> 16), static_cast<char>(payload.size() >> 8),
                   static_cast<char>(payload.size()), static_cast<char>(type),
                   static_cast<char>(flags)};
  for (int i = 3; i >= 0; --i) {
    f.push_back(static_cast<char>((stream >> (8 * i)) & 0xff));
  }
  return f + payload;
}

const std::string kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

// A connection whose bytes the test writes and reads itself.
class RawConnection {
 public:
  explicit RawConnection(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  }
  ~RawConnection() { close(fd_); }
  void Send(const std::string& bytes) { send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL); }
  // Reads until `until` holds of what arrived (false), or the server closes (true), or nothing
  // comes for `wait_ms` (false).
  bool ReadUntil(const std::function<bool()>& until, int wait_ms = 3000) {
    while (!until()) {
      pollfd p{fd_, POLLIN, 0};
      char buf[4096];
      if (poll(&p, 1, wait_ms) <= 0) {
        return false;
      }
      ssize_t r = read(fd_, buf, sizeof buf);
      if (r <= 0) {
        return r == 0 || errno == ECONNRESET;  // closed (with our bytes unread: reset)
      }
      in.append(buf, r);
    }
    return false;
  }
  bool Received(const std::string& bytes) const { return in.find(bytes) != std::string::npos; }

  std::string in;

 private:
  int fd_;
};

// A request's header block for `path` with the test's key, in HPACK without indexing.
std::string RequestBlock(const std::string& path) {
  std::string block = "\x83\x86";  // :method POST, :scheme http
  for (const auto& [name, value] :
       std::vector<std::pair<std::string, std::string>>{{":path", path},
                                                        {":authority", "relay"},
                                                        {"content-type", "application/grpc"},
                                                        {"te", "trailers"},
                                                        {"authorization", "Bearer ok"}}) {
    block += '\0';  // literal, new name, not indexed
    HpackString(block, name);
    HpackString(block, value);
  }
  return block;
}

TEST_F(H2RelayLimitsTest, AnHpackBombIsCutOffAndItsConnectionClosed) {
  // A block of 15 KB: one 3 KB header added to the dynamic table, then named 12,000 times by
  // one byte (indexed field 62): it decodes to 36 MB.
  auto bomb = [](uint32_t stream) {
    std::string block = "\x83\x86";  // :method POST, :scheme http
    HpackInt(block, 0, 4, 4);        // :path, literal value
    HpackString(block, "/t.T/Echo");
    HpackInt(block, 0, 4, 1);  // :authority
    HpackString(block, "relay");
    HpackInt(block, 0x40, 6, 0);  // x-bomb, indexed from now on
    HpackString(block, "x-bomb");
    HpackString(block, std::string(3000, 'b'));
    block.append(12000, '\xbe');
    return Frame(1, 0x4 | 0x1, stream, block);  // HEADERS, END_HEADERS | END_STREAM
  };
  RawConnection raw(relay_->port());
  std::string& in = raw.in;
  auto read_until = [&](const std::function<bool()>& until) { return raw.ReadUntil(until); };
  const auto start = std::chrono::steady_clock::now();
  raw.Send(kPreface + Frame(4, 0, 0, "") + bomb(1));
  // The first: its stream is reset (RST_STREAM on stream 1), the rest of its block skipped.
  const std::string reset = Frame(3, 0, 1, "").substr(0, 9).replace(2, 1, "\x04");
  EXPECT_FALSE(read_until([&] { return in.find(reset) != std::string::npos; }));
  // More of them: the connection is closed.
  std::string out;
  for (uint32_t id = 3; id < 40; id += 2) {
    out += bomb(id);
  }
  raw.Send(out);  // 19 more: 680 MB to decode
  EXPECT_TRUE(read_until([] { return false; }));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  EXPECT_EQ(routes_.held.load(), 0);
  Client other(relay_->port(), true);
  ExpectServed(other);
}

TEST_F(H2RelayLimitsTest, AHeaderBlockContinuesInContinuationFrames) {
  RawConnection raw(relay_->port());
  const std::string block = RequestBlock("/t.T/Echo");
  const size_t cut = block.size() / 3;
  raw.Send(kPreface + Frame(4, 0, 0, "") + Frame(1, 0, 1, block.substr(0, cut)) +  // HEADERS
           Frame(9, 0, 1, block.substr(cut, cut)) +                                // CONTINUATION
           Frame(9, 0x4, 1, block.substr(2 * cut)) +  // CONTINUATION, END_HEADERS
           Frame(0, 0x1, 1, Framed("continued")));    // DATA, END_STREAM
  EXPECT_FALSE(raw.ReadUntil([&] { return raw.Received(Framed("continued")); }));
  EXPECT_TRUE(raw.Received(Framed("continued")));  // answered
}

TEST_F(H2RelayLimitsTest, AWindowPastTwoToTheThirtyOneIsAFlowControlError) {
  RawConnection raw(relay_->port());
  raw.Send(kPreface + Frame(4, 0, 0, "") + Frame(8, 0, 0, std::string("\x7f\xff\xff\xff", 4)));
  EXPECT_TRUE(raw.ReadUntil([] { return false; }));  // closed, after
  const size_t goaway = raw.in.find(std::string("\x00\x00\x08\x07\x00\x00\x00\x00\x00", 9));
  ASSERT_NE(goaway, std::string::npos);
  EXPECT_EQ(raw.in.substr(goaway + 13, 4), std::string("\x00\x00\x00\x03", 4));  // FLOW_CONTROL
}

TEST_F(H2RelayLimitsTest, BytesOfStreamsResetMidMessageAreCreditedToTheConnection) {
  // 80 calls each send 240 KB of a 1 MiB message and are cancelled: 19 MB, past the 16 MiB
  // connection window. Unless those bytes were credited, the last call could not be sent.
  RawConnection raw(relay_->port());
  std::string out = kPreface + Frame(4, 0, 0, "");
  const std::string block = RequestBlock("/t.T/Echo");
  std::string part = Framed(std::string(1 << 20, 'r')).substr(0, 240 * 1000);
  uint32_t id = 1;
  for (; id < 160; id += 2) {
    out += Frame(1, 0x4, id, block);
    for (size_t at = 0; at < part.size(); at += 16384) {
      out += Frame(0, 0, id, part.substr(at, 16384));
    }
    out += Frame(3, 0, id, std::string("\x00\x00\x00\x08", 4));  // RST_STREAM, CANCEL
  }
  out += Frame(1, 0x4, id, block) + Frame(0, 0x1, id, Framed("last"));
  raw.Send(out);
  EXPECT_FALSE(raw.ReadUntil([&] { return raw.Received(Framed("last")); }));
  EXPECT_TRUE(raw.Received(Framed("last")));
  EXPECT_FALSE(raw.Received(std::string("\x00\x00\x08\x07", 4)));  // no GOAWAY
}

TEST_F(H2RelayLimitsTest, HeadersOverTheLimitAreRefusedWithTheirSize) {
  Client client(relay_->port(), true);
  int32_t id = client.Call("/t.T/Echo", Framed("a"), true, {{"x-big", std::string(20000, 'h')}});
  ASSERT_TRUE(client.Pump([&] { return client.stream(id).closed; }, 5));
  EXPECT_EQ(client.stream(id).headers["grpc-status"], "8");
  ExpectServed(client);
}

TEST_F(H2RelayLimitsTest, RepeatedAuthorizationHeadersAreRefused) {
  Client client(relay_->port(), true);
  int32_t id = client.Call("/t.T/Echo", Framed("a"), true,
                           {{"authorization", "Bearer ok"}, {"authorization", "Bearer ok"}});
  ASSERT_TRUE(client.Pump([&] { return client.stream(id).closed; }, 5));
  EXPECT_EQ(client.stream(id).headers["grpc-status"], "16");  // UNAUTHENTICATED
}

TEST_F(H2RelayLimitsTest, ConnectionsFromOneAddressAreLimited) {
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 6; ++i) {
    clients.push_back(std::make_unique<Client>(relay_->port(), true));
  }
  int served = 0;
  for (auto& client : clients) {
    int32_t id = client->Call("/t.T/Echo", Framed("ok"), true);
    client->Pump([&] { return client->stream(id).closed || client->eof(); }, 2);
    served += client->stream(id).headers["grpc-status"] == "0" ? 1 : 0;
  }
  EXPECT_EQ(served, 4);  // the limit per address; the others were closed at once
  clients.resize(1);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the server sees them go
  Client again(relay_->port(), true);
  ExpectServed(again);
}

TEST_F(H2RelayLimitsTest, AConnectionThatMakesNoCallIsClosed) {
  Client idle(relay_->port(), true);
  idle.Pump([&] { return idle.eof(); }, 3);
  EXPECT_TRUE(idle.eof());
}

class H2RelayDescriptorTest : public H2RelayLimitsTest {
 protected:
  RelayOptions Options() override {
    RelayOptions options = H2RelayLimitsTest::Options();
    options.max_connections_per_address = 1000;
    return options;
  }
};

TEST_F(H2RelayDescriptorTest, OutOfFileDescriptorsTheServerWaitsInsteadOfSpinning) {
  EXPECT_LT(testing::CpuSecondOutOfDescriptors(relay_->port()),
            0.2);  // not a core spinning on accept
  Client client(relay_->port(), true);
  ExpectServed(client);
}

TEST_F(H2RelayLimitsTest, ABackendThatComesBackIsUsedByTheNextCall) {
  Client client(relay_->port(), true);
  auto relayed = [&] {
    int32_t id = client.Call("/t.T/Relayed", Framed("r"), true);
    EXPECT_TRUE(client.Pump([&] { return client.stream(id).closed; }, 5));
    return client.stream(id).headers["grpc-status"];
  };
  EXPECT_EQ(relayed(), "14");  // UNAVAILABLE: nothing listens
  EXPECT_EQ(relayed(), "14");
  // The backend starts: the very next call reaches it, with no back-off to wait out.
  Routes backend_routes(true);
  RelayOptions options = H2RelayTest::Options();
  options.listen = absl::StrCat("127.0.0.1:", FreePort());
  H2Relay backend(backend_routes, options, nullptr);
  ASSERT_TRUE(backend.Listen().ok());
  backend.Start("127.0.0.1:1");
  EXPECT_EQ(relayed(), "0");
  backend.Shutdown(absl::ZeroDuration());
}

// Calls the process makes itself (H2Relay::Call, the gateway's HTTP/JSON front end): over the
// relay's backend connections, to a backend front end answering locally.
class H2RelayCallTest : public H2RelayLimitsTest {
 protected:
  void StartBackend() {
    RelayOptions options = H2RelayTest::Options();
    options.listen = absl::StrCat("127.0.0.1:", FreePort());
    backend_ = std::make_unique<H2Relay>(backend_routes_, options, nullptr);
    ASSERT_TRUE(backend_->Listen().ok());
    backend_->Start("127.0.0.1:1");
  }
  void TearDown() override {
    H2RelayLimitsTest::TearDown();
    if (backend_ != nullptr) {
      backend_->Shutdown(absl::ZeroDuration());
    }
  }
  std::pair<absl::Status, std::string> CallAndWait(const std::string& path,
                                                   std::vector<RelayHeader> headers,
                                                   const std::string& request,
                                                   absl::Time deadline = absl::InfiniteFuture()) {
    auto done = std::make_shared<std::promise<std::pair<absl::Status, std::string>>>();
    relay_->Call(0, path, std::move(headers), request, deadline,
                 [done](absl::Status status, std::string response) {
                   done->set_value({std::move(status), std::move(response)});
                 });
    auto future = done->get_future();
    EXPECT_EQ(future.wait_for(std::chrono::seconds(5)), std::future_status::ready);
    return future.get();
  }

  Routes backend_routes_{true};
  std::unique_ptr<H2Relay> backend_;
};

TEST_F(H2RelayCallTest, ACallFromTheProcessGetsTheBackendsAnswer) {
  StartBackend();
  auto [status, response] =
      CallAndWait("/t.T/Relayed", {{"authorization", "Bearer ok"}}, Framed("hi") + Framed("2"));
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_EQ(response, Framed("hi") + Framed("2"));
  // And the next ones, on the same backend connection.
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(CallAndWait("/t.T/Relayed", {{"authorization", "Bearer ok"}}, Framed("n")).second,
              Framed("n"));
  }
}

TEST_F(H2RelayCallTest, TheBackendsErrorComesBackWithItsCodeAndMessage) {
  StartBackend();
  auto [status, response] = CallAndWait("/t.T/Relayed", {}, Framed("hi"));
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated) << status;
  EXPECT_EQ(status.message(), "no");
  EXPECT_EQ(response, "");
}

TEST_F(H2RelayCallTest, ABackendThatIsDownIsUnavailable) {
  auto [status, response] = CallAndWait("/t.T/Relayed", {{"authorization", "Bearer ok"}}, "");
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
}

TEST_F(H2RelayCallTest, ACallPastItsDeadlineEnds) {
  StartBackend();
  const auto start = std::chrono::steady_clock::now();
  // The backend's pushing method keeps the call open until its deadline.
  auto [status, response] = CallAndWait("/t.T/Push", {{"authorization", "Bearer ok"}}, Framed("w"),
                                        absl::Now() + absl::Milliseconds(200));
  EXPECT_EQ(status.code(), absl::StatusCode::kDeadlineExceeded) << status;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

// More calls at once than the backend takes on a connection (100): another connection is made
// and used, and no call is refused as if the backend were down.
TEST_F(H2RelayCallTest, MoreCallsThanABackendConnectionTakesOpenAnother) {
  StartBackend();
  std::vector<std::future<absl::Status>> ended;
  for (int i = 0; i < 250; ++i) {  // on each loop, more than 100
    auto done = std::make_shared<std::promise<absl::Status>>();
    ended.push_back(done->get_future());
    relay_->Call(0, "/t.T/Push", {{"authorization", "Bearer ok"}}, Framed("w"),
                 absl::Now() + absl::Milliseconds(500),
                 [done](absl::Status status, std::string) { done->set_value(std::move(status)); });
  }
  int held = 0;
  for (auto& e : ended) {
    ASSERT_EQ(e.wait_for(std::chrono::seconds(5)), std::future_status::ready);
    held += e.get().code() == absl::StatusCode::kDeadlineExceeded ? 1 : 0;  // not refused
  }
  EXPECT_EQ(held, 250);
}

TEST_F(H2RelayCallTest, ACancelledCallEndsCancelledAndResetsItsBackendStream) {
  StartBackend();
  auto done = std::make_shared<std::promise<absl::Status>>();
  H2Relay::CallCancel cancel = relay_->Call(
      0, "/t.T/Push", {{"authorization", "Bearer ok"}}, Framed("w"), absl::InfiniteFuture(),
      [done](absl::Status status, std::string) { done->set_value(std::move(status)); });
  std::shared_ptr<LocalPush> push;
  for (int i = 0; i < 500 && push == nullptr; ++i) {  // the backend has the call
    push = backend_routes_.pusher.push();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_NE(push, nullptr);
  cancel();
  auto ended = done->get_future();
  ASSERT_EQ(ended.wait_for(std::chrono::seconds(2)), std::future_status::ready);
  EXPECT_EQ(ended.get().code(), absl::StatusCode::kCancelled);
  bool reset = false;  // the backend's call ends: its writes are dropped
  for (int i = 0; i < 200 && !reset; ++i) {
    reset = !push->Write(Framed("late"));
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(reset);
  cancel();  // a second time, after the end: nothing
  EXPECT_EQ(CallAndWait("/t.T/Relayed", {{"authorization", "Bearer ok"}}, Framed("n")).second,
            Framed("n"));
}

// Timeouts of minutes, on a clock the test moves.
class H2RelayClockTest : public H2RelayLimitsTest {
 protected:
  RelayOptions Options() override {
    RelayOptions options = H2RelayLimitsTest::Options();
    options.clock = &clock_;
    options.first_call_timeout = absl::Minutes(1);
    options.stall_timeout = absl::Minutes(1);
    return options;
  }
  testing::FakeClock clock_;
};

TEST_F(H2RelayClockTest, AConnectionIdleForFiveMinutesIsClosed) {
  Client client(relay_->port(), true);
  ExpectServed(client);
  clock_.Advance(absl::Minutes(4));
  client.Pump([] { return false; }, 0.3);
  EXPECT_FALSE(client.eof());
  clock_.Advance(absl::Minutes(1) + absl::Seconds(1));
  EXPECT_TRUE(client.Pump([&] { return client.eof(); }, 2));
}

TEST_F(H2RelayClockTest, ABackendThatStopsAnsweringIsFoundByItsKeepalive) {
  // A backend that accepts connections and never says a word (a node gone silent).
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(FreePort()));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(listen(listener, 8), 0);
  Client client(relay_->port(), true);
  int32_t id = client.Call("/t.T/Relayed", Framed("r"), true);  // no deadline
  client.Pump([] { return false; }, 0.3);
  EXPECT_FALSE(client.stream(id).closed);
  // A second at a time (each looked at by a sweep, however slow this machine): quiet past
  // keepalive_time (30 s) a PING goes out, and with no answer in keepalive_timeout (10 s) the
  // connection and its call fail.
  int seconds = 0;
  while (!client.stream(id).closed && seconds < 80) {
    clock_.Advance(absl::Seconds(1));
    ++seconds;
    client.Pump([&] { return client.stream(id).closed; }, 0.05);
  }
  ASSERT_TRUE(client.Pump([&] { return client.stream(id).closed; }, 2));
  EXPECT_GE(seconds, 40);
  EXPECT_EQ(client.stream(id).headers["grpc-status"], "14");  // UNAVAILABLE
  EXPECT_NE(client.stream(id).headers["grpc-message"].find("keepalive"), std::string::npos);
  close(listener);
}

TEST_F(H2RelayClockTest, AHeaderBlockTrickledPastTheHeaderTimeoutClosesItsConnection) {
  // HTTP/2's slowloris: a HEADERS frame without END_HEADERS, then a CONTINUATION now and then.
  // Nothing else may come on the connection meanwhile, so the connection is what is held.
  RawConnection raw(relay_->port());
  const std::string block = RequestBlock("/t.T/Echo");
  raw.Send(kPreface + Frame(4, 0, 0, "") + Frame(1, 0, 1, block.substr(0, 10)));
  EXPECT_FALSE(raw.ReadUntil([&] { return raw.in.size() > 9; }));  // the server's SETTINGS
  // A second at a time (the server may take the block in after the clock has moved): a little
  // more of the block at 5 s does not extend it, and past 10 s the connection is closed.
  int seconds = 0;
  bool closed = false;
  while (!closed && seconds < 40) {
    clock_.Advance(absl::Seconds(1));
    if (++seconds == 5) {
      raw.Send(Frame(9, 0, 1, block.substr(10, 5)));
    }
    closed = raw.ReadUntil([] { return false; }, 50);
  }
  EXPECT_TRUE(closed);
  EXPECT_GE(seconds, 10);
  Client client(relay_->port(), true);
  ExpectServed(client);
}

// HTTP requests that are not gRPC, handed to an HttpHandler as an HTTP/1.1 server hands them.
class HttpHandlerForTest final : public frontdoor::HttpHandler {
 public:
  void Handle(frontdoor::Http1Request request,
              std::shared_ptr<frontdoor::HttpExchange> exchange) override {
    ++requests;
    if (request.target == "/stream") {
      exchange->OnCancel([this] { ++cancelled; });
      exchange->BeginStream(200, {{"Content-Type", "application/x-ndjson"}});
      exchange->Write("first\n");
      std::lock_guard lock(mu);
      streams.push_back(std::move(exchange));
      return;
    }
    const std::string* host = request.Header("host");
    exchange->Respond(200,
                      {{"Content-Type", "text/plain"}, {"Connection", "close"}, {"X-Test", "1"}},
                      absl::StrCat(request.method, " ", request.target, " ",
                                   host != nullptr ? *host : "-", " ", request.body));
  }

  std::atomic<int> requests{0};
  std::atomic<int> cancelled{0};
  std::mutex mu;
  std::vector<std::shared_ptr<frontdoor::HttpExchange>> streams;  // guarded by mu
};

class H2RelayHttpTest : public H2RelayLimitsTest {
 protected:
  void SetUp() override {
    H2RelayLimitsTest::SetUp();
    relay_->ServeHttp(&handler_, 4096);
  }
  void TearDown() override {
    H2RelayLimitsTest::TearDown();
    std::lock_guard lock(handler_.mu);
    handler_.streams.clear();
  }
  std::shared_ptr<frontdoor::HttpExchange> LastStream() {
    std::lock_guard lock(handler_.mu);
    return handler_.streams.empty() ? nullptr : handler_.streams.back();
  }

  HttpHandlerForTest handler_;
};

TEST_F(H2RelayHttpTest, ARequestThatIsNotGrpcGoesToTheHandlerAndItsAnswerComesBackAsHttp2) {
  Client client(relay_->port(), true);
  int32_t post = client.Request("POST", "/v1/x?y=1", {{"content-type", "application/json"}},
                                R"({"a":1})", true);
  int32_t get = client.Request("GET", "/v1/y", {}, "", true);
  ASSERT_TRUE(client.Pump([&] { return client.AllClosed({post, get}); }, 5));
  Client::Stream& p = client.stream(post);
  EXPECT_EQ(p.headers[":status"], "200");
  EXPECT_EQ(p.headers["x-test"], "1");
  EXPECT_EQ(p.headers["content-type"], "text/plain");
  EXPECT_EQ(p.headers.count("connection"), 0u);          // HTTP/2 has no connection headers
  EXPECT_EQ(p.data, R"(POST /v1/x?y=1 relay {"a":1})");  // :authority is the Host
  EXPECT_EQ(p.headers["content-length"], absl::StrCat(p.data.size()));
  EXPECT_EQ(client.stream(get).data, "GET /v1/y relay ");
  // gRPC calls on the same connection are not touched.
  ExpectServed(client);
}

TEST_F(H2RelayHttpTest, AStreamedResponseGoesOutAsWrittenAndAResetTellsTheHandler) {
  Client client(relay_->port(), true);
  int32_t id = client.Request("GET", "/stream", {}, "", true);
  ASSERT_TRUE(client.Pump([&] { return client.stream(id).data == "first\n"; }, 5));
  EXPECT_EQ(client.stream(id).headers[":status"], "200");
  EXPECT_EQ(client.stream(id).headers.count("content-length"), 0u);
  std::shared_ptr<frontdoor::HttpExchange> stream = LastStream();
  ASSERT_NE(stream, nullptr);
  std::thread([stream] { EXPECT_TRUE(stream->Write("second\n")); }).join();
  ASSERT_TRUE(client.Pump([&] { return client.stream(id).data == "first\nsecond\n"; }, 5));
  EXPECT_FALSE(client.stream(id).closed);
  client.Reset(id);
  ASSERT_TRUE(client.Pump([&] { return handler_.cancelled.load() == 1; }, 5));
  ASSERT_TRUE(client.Pump([&] { return !stream->Write("late\n"); }, 5));
  // A stream that ends is not a cancelled one.
  int32_t ended = client.Request("GET", "/stream", {}, "", true);
  ASSERT_TRUE(client.Pump([&] { return client.stream(ended).data == "first\n"; }, 5));
  LastStream()->End();
  ASSERT_TRUE(client.Pump([&] { return client.stream(ended).closed; }, 5));
  EXPECT_EQ(handler_.cancelled.load(), 1);
}

TEST_F(H2RelayHttpTest, ABodyOverTheLimitIsAnswered413AndTheConnectionGoesOn) {
  Client client(relay_->port(), true);
  int32_t id = client.Request("POST", "/v1/x", {{"content-type", "application/json"}},
                              std::string(5000, 'x'), true);
  ASSERT_TRUE(client.Pump([&] { return client.stream(id).closed; }, 5));
  EXPECT_EQ(client.stream(id).headers[":status"], "413");
  EXPECT_NE(client.stream(id).data.find("4096"), std::string::npos);
  EXPECT_EQ(handler_.requests.load(), 0);
  int32_t next = client.Request("GET", "/v1/y", {}, "", true);
  ASSERT_TRUE(client.Pump([&] { return client.stream(next).closed; }, 5));
  EXPECT_EQ(client.stream(next).headers[":status"], "200");
}

TEST_F(H2RelayHttpTest, ABodyThatStopsArrivingIsAnswered408) {
  Client client(relay_->port(), true);
  int32_t id =
      client.Request("POST", "/v1/x", {{"content-type", "application/json"}}, "{\"a\"", false);
  ASSERT_TRUE(client.Pump([&] { return client.stream(id).headers.count(":status") > 0; }, 5));
  EXPECT_EQ(client.stream(id).headers[":status"], "408");  // after stall_timeout (700 ms)
  EXPECT_EQ(handler_.requests.load(), 0);
}

TEST_F(H2RelayHttpTest, AStreamItsClientDoesNotReadIsResetAtTheBacklog) {
  Client client(relay_->port(), false);  // gives no window back
  int32_t id = client.Request("GET", "/stream", {}, "", true);
  ASSERT_TRUE(client.Pump([&] { return client.stream(id).data == "first\n"; }, 5));
  std::shared_ptr<frontdoor::HttpExchange> stream = LastStream();
  const std::string chunk(16 * 1024, 'x');
  bool refused = false;
  for (int i = 0; i < 64 && !refused; ++i) {  // 1 MiB against a 64 KiB window + 256 KiB
    refused = !stream->Write(chunk);
    client.Pump([] { return false; }, 0.02);
  }
  ASSERT_TRUE(client.Pump([&] { return client.stream(id).closed; }, 5));
  EXPECT_TRUE(client.Pump([&] { return handler_.cancelled.load() == 1; }, 5));
  EXPECT_LT(client.stream(id).data.size(), 128u * 1024);
}

TEST_F(H2RelayHttpTest, WithoutAHandlerSuchRequestsAreRefused415) {
  relay_->ServeHttp(nullptr, 4096);
  Client client(relay_->port(), true);
  int32_t id = client.Request("GET", "/v1/y", {}, "", true);
  ASSERT_TRUE(client.Pump([&] { return client.stream(id).closed; }, 5));
  EXPECT_EQ(client.stream(id).headers[":status"], "415");
}

TEST_F(H2RelayHttpTest, AnHttp1PortHandsH2cConnectionsOverWithWhatItRead) {
  frontdoor::Http1ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.loops = relay_->event_loops();
  options.h2c = [this](int fd, std::string peer, std::string read) {
    relay_->Serve(fd, std::move(peer), std::move(read));
  };
  frontdoor::Http1Server http1(handler_, options);
  ASSERT_TRUE(http1.Listen().ok());
  http1.Start();
  // The preface a byte at a time: the server waits to know, then hands it over.
  {
    RawConnection raw(http1.port());
    for (char c : kPreface) {
      raw.Send(std::string(1, c));
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    raw.Send(Frame(4, 0, 0, ""));
    EXPECT_FALSE(raw.ReadUntil([&] { return raw.in.size() >= 9; }));
    EXPECT_EQ(raw.in[3], 4);  // the relay's SETTINGS
  }
  Client client(http1.port(), true);
  int32_t id = client.Request("GET", "/v1/y", {}, "", true);
  ASSERT_TRUE(client.Pump([&] { return client.stream(id).closed; }, 5));
  EXPECT_EQ(client.stream(id).data, "GET /v1/y relay ");
  ExpectServed(client);  // gRPC too, once on the relay
  // HTTP/1.1 that starts like the preface ("P") is still HTTP/1.1.
  RawConnection post(http1.port());
  post.Send("P");
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  post.Send("OST /v1/z HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nok");
  post.ReadUntil([&] { return post.Received("POST /v1/z h ok"); });
  EXPECT_TRUE(post.Received("HTTP/1.1 200")) << post.in;
  http1.Shutdown(absl::ZeroDuration());
}

// The HTTP/2 codec on raw frames, with no network: one end of a socketpair is handed to the
// relay (H2Relay::Serve, as the HTTP/1.1 port hands over an h2c connection), the test writes
// frames by hand on the other and reads the server's back, decoding their header blocks.
class FrameConnection {
 public:
  struct Frame {
    uint8_t type;
    uint8_t flags;
    uint32_t stream;
    std::string payload;
  };

  explicit FrameConnection(H2Relay& relay) {
    int fds[2];
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    fcntl(fds[1], F_SETFL, O_NONBLOCK);
    fd_ = fds[0];
    relay.Serve(fds[1], "frames", "");
    nghttp2_hd_inflate_new(&inflater_);
  }
  ~FrameConnection() {
    nghttp2_hd_inflate_del(inflater_);
    close(fd_);
  }
  void Send(const std::string& bytes) { send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL); }
  // Reads frames until one satisfies `until` (true), the server closes, or nothing comes for
  // `wait_ms` (false).
  bool ReadUntil(const std::function<bool(const Frame&)>& until, int wait_ms = 3000) {
    for (;;) {
      while (in_.size() >= 9) {
        const size_t length = (static_cast<uint8_t>(in_[0]) << 16) |
                              (static_cast<uint8_t>(in_[1]) << 8) | static_cast<uint8_t>(in_[2]);
        if (in_.size() < 9 + length) {
          break;
        }
        Frame f{static_cast<uint8_t>(in_[3]), static_cast<uint8_t>(in_[4]), 0,
                in_.substr(9, length)};
        for (int i = 5; i < 9; ++i) {
          f.stream = (f.stream << 8) | static_cast<uint8_t>(in_[i]);
        }
        f.stream &= 0x7fffffff;
        in_.erase(0, 9 + length);
        if (f.type == 1) {
          f.payload = Decode(f.payload, f.flags);
        }
        frames.push_back(f);
        if (until(frames.back())) {
          return true;
        }
      }
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, wait_ms) <= 0) {
        return false;
      }
      char buf[65536];
      const ssize_t r = read(fd_, buf, sizeof buf);
      if (r <= 0) {
        closed = true;
        return false;
      }
      in_.append(buf, r);
    }
  }
  // The GOAWAY's error code, once one came (-1 before).
  int64_t GoawayCode() const {
    for (const Frame& f : frames) {
      if (f.type == 7 && f.payload.size() >= 8) {
        return (static_cast<uint8_t>(f.payload[4]) << 24) |
               (static_cast<uint8_t>(f.payload[5]) << 16) |
               (static_cast<uint8_t>(f.payload[6]) << 8) | static_cast<uint8_t>(f.payload[7]);
      }
    }
    return -1;
  }

  std::vector<Frame> frames;
  bool closed = false;

 private:
  // A HEADERS frame's block (the server pads none and sends no priority) as "name: value\n".
  std::string Decode(const std::string& block, uint8_t flags) {
    std::string out;
    const uint8_t* in = reinterpret_cast<const uint8_t*>(block.data());
    size_t left = block.size();
    for (;;) {
      nghttp2_nv nv;
      int inflate_flags = 0;
      const ssize_t used = nghttp2_hd_inflate_hd2(inflater_, &nv, &inflate_flags, in, left,
                                                  (flags & NGHTTP2_FLAG_END_HEADERS) != 0);
      if (used < 0) {
        return "(undecodable)";
      }
      in += used;
      left -= static_cast<size_t>(used);
      if (inflate_flags & NGHTTP2_HD_INFLATE_EMIT) {
        out += std::string(reinterpret_cast<const char*>(nv.name), nv.namelen) + ": " +
               std::string(reinterpret_cast<const char*>(nv.value), nv.valuelen) + "\n";
      }
      if (inflate_flags & NGHTTP2_HD_INFLATE_FINAL) {
        nghttp2_hd_inflate_end_headers(inflater_);
        return out;
      }
      if ((inflate_flags & NGHTTP2_HD_INFLATE_EMIT) == 0 && left == 0) {
        return out;
      }
    }
  }

  int fd_;
  std::string in_;
  nghttp2_hd_inflater* inflater_ = nullptr;
};

constexpr uint8_t kData = 0, kHeaders = 1, kPriority = 2, kRstStream = 3, kSettings = 4,
                  kPushPromise = 5, kPing = 6, kGoaway = 7, kWindowUpdate = 8;
constexpr uint8_t kEndStream = 1, kAck = 1, kEndHeaders = 4;

std::string Be32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

using H2FrameTest = H2RelayLimitsTest;

TEST_F(H2FrameTest, SettingsAndPingAreAcknowledgedAndUnknownFramesIgnored) {
  FrameConnection c(*relay_);
  c.Send(kPreface + Frame(kSettings, 0, 0, "") + Frame(0xfa, 0, 0, "unknown type") +
         Frame(kPriority, 0, 3, Be32(1) + "\x10") + Frame(kPing, 0, 0, "abcdefgh"));
  ASSERT_TRUE(c.ReadUntil([](const auto& f) { return f.type == kPing; }));
  const auto& ping = c.frames.back();
  EXPECT_EQ(ping.flags, kAck);
  EXPECT_EQ(ping.payload, "abcdefgh");
  EXPECT_TRUE(std::any_of(c.frames.begin(), c.frames.end(),
                          [](const auto& f) { return f.type == kSettings && f.flags == kAck; }));
  // A call after them is served: the connection is sound.
  c.Send(Frame(kHeaders, kEndHeaders, 1, RequestBlock("/t.T/Echo")) +
         Frame(kData, kEndStream, 1, Framed("hi")));
  ASSERT_TRUE(
      c.ReadUntil([](const auto& f) { return f.type == kHeaders && (f.flags & kEndStream); }));
  EXPECT_NE(c.frames.back().payload.find("grpc-status: 0"), std::string::npos);
  EXPECT_EQ(c.GoawayCode(), -1);
}

TEST_F(H2FrameTest, ARefusedCallIsAnsweredTrailersOnly) {
  FrameConnection c(*relay_);
  std::string block = RequestBlock("/t.T/Echo");
  block.replace(block.find("Bearer ok"), 9, "Bearer no");
  c.Send(kPreface + Frame(kSettings, 0, 0, "") +
         Frame(kHeaders, kEndHeaders | kEndStream, 1, block));
  ASSERT_TRUE(c.ReadUntil([](const auto& f) { return f.type == kHeaders; }));
  const auto& only = c.frames.back();
  EXPECT_EQ(only.flags & kEndStream, kEndStream);  // one HEADERS frame ends the stream
  EXPECT_NE(only.payload.find(":status: 200"), std::string::npos);
  EXPECT_NE(only.payload.find("grpc-status: 16"), std::string::npos) << only.payload;
  EXPECT_FALSE(
      std::any_of(c.frames.begin(), c.frames.end(), [](const auto& f) { return f.type == kData; }));
}

TEST_F(H2FrameTest, AResponseWaitsAtAZeroWindowAndGoesOnWhenCredited) {
  FrameConnection c(*relay_);
  // SETTINGS_INITIAL_WINDOW_SIZE = 0: no stream may be sent DATA until credited.
  c.Send(kPreface + Frame(kSettings, 0, 0, std::string("\x00\x04", 2) + Be32(0)) +
         Frame(kHeaders, kEndHeaders, 1, RequestBlock("/t.T/Echo")) +
         Frame(kData, kEndStream, 1, Framed("waits")));
  ASSERT_TRUE(c.ReadUntil([](const auto& f) { return f.type == kHeaders && f.stream == 1; }));
  EXPECT_FALSE(c.ReadUntil([](const auto& f) { return f.type == kData; }, 300));
  c.Send(Frame(kWindowUpdate, 0, 1, Be32(1000)));
  ASSERT_TRUE(c.ReadUntil([](const auto& f) { return f.type == kData; }));
  EXPECT_EQ(c.frames.back().payload, Framed("waits"));
  ASSERT_TRUE(
      c.ReadUntil([](const auto& f) { return f.type == kHeaders && (f.flags & kEndStream); }));
  EXPECT_NE(c.frames.back().payload.find("grpc-status: 0"), std::string::npos);
}

TEST_F(H2FrameTest, AGoawayFromTheClientLetsTheCallUnderWayFinish) {
  FrameConnection c(*relay_);
  c.Send(kPreface + Frame(kSettings, 0, 0, "") +
         Frame(kHeaders, kEndHeaders, 1, RequestBlock("/t.T/Echo")) +
         Frame(kData, 0, 1, Framed("one")));
  ASSERT_TRUE(c.ReadUntil([](const auto& f) { return f.type == kData && f.stream == 1; }));
  // Its last stream 0: the client took no stream of the server's (a server opens none).
  c.Send(Frame(kGoaway, 0, 0, Be32(0) + Be32(0)) + Frame(kData, kEndStream, 1, Framed("two")));
  ASSERT_TRUE(c.ReadUntil([](const auto& f) {
    return f.type == kHeaders && (f.flags & kEndStream);
  })) << "GOAWAY "
      << c.GoawayCode();
  EXPECT_NE(c.frames.back().payload.find("grpc-status: 0"), std::string::npos);
  EXPECT_EQ(c.frames[c.frames.size() - 2].payload, Framed("two"));
}

TEST_F(H2FrameTest, FramesAClientMayNotSendEndTheConnectionWithAProtocolError) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"PUSH_PROMISE", Frame(kPushPromise, kEndHeaders, 1, Be32(2) + RequestBlock("/t.T/Echo"))},
      {"WINDOW_UPDATE of 0", Frame(kWindowUpdate, 0, 0, Be32(0))},
      {"DATA on an idle stream", Frame(kData, 0, 5, "x")},
      {"RST_STREAM on an idle stream", Frame(kRstStream, 0, 7, Be32(8))},
      {"HEADERS on stream 0", Frame(kHeaders, kEndHeaders, 0, RequestBlock("/t.T/Echo"))},
      {"a CONTINUATION without HEADERS", Frame(9, kEndHeaders, 1, RequestBlock("/t.T/Echo"))},
      {"GOAWAY naming a client's stream as the last", Frame(kGoaway, 0, 0, Be32(1) + Be32(0))},
  };
  for (const auto& [name, frame] : cases) {
    FrameConnection c(*relay_);
    c.Send(kPreface + Frame(kSettings, 0, 0, "") + frame);
    c.ReadUntil([](const auto&) { return false; }, 1000);
    EXPECT_EQ(c.GoawayCode(), NGHTTP2_PROTOCOL_ERROR) << name;
    EXPECT_TRUE(c.closed) << name;
  }
  Client client(relay_->port(), true);
  ExpectServed(client);
}

}  // namespace
}  // namespace accord
