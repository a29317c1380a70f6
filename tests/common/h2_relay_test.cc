// The relay's local calls at the HTTP/2 level, with a client of nghttp2 on a real loopback
// socket: what gRPC clients cannot show (their own deadlines and flow control hide the
// server's). Deadlines enforced by the server, back-pressure on a caller that does not read,
// compressed messages that are corrupt or inflate past the limit.
#include "common/h2_relay.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

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

class Routes final : public RelayRoutes {
 public:
  Routes() {
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
    return path == echo_.path   ? &echo_
           : path == big_.path  ? &big_
           : path == push_.path ? &push_
                                : nullptr;
  }
  absl::StatusOr<std::unique_ptr<RelayTicket>> Admit(const RelayRoute&,
                                                     const CallerHeaders& caller) override {
    if (caller.authorization != "Bearer ok") {
      return absl::UnauthenticatedError("no");
    }
    return nullptr;
  }

 private:
  Echo echo_method_{1};
  Echo big_method_{64};  // a 1 KiB message answered with 64 KiB
  RelayRoute echo_;
  RelayRoute big_;
  RelayRoute push_;

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
    std::vector<std::pair<std::string, std::string>> h = {{":method", "POST"},
                                                          {":scheme", "http"},
                                                          {":path", path},
                                                          {":authority", "relay"},
                                                          {"content-type", "application/grpc"},
                                                          {"te", "trailers"}};
    h.insert(h.end(), extra.begin(), extra.end());
    if (std::none_of(extra.begin(), extra.end(),
                     [](const auto& e) { return e.first == "authorization"; })) {
      h.emplace_back("authorization", "Bearer ok");
    }
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
    int32_t id =
        nghttp2_submit_request(session_, nullptr, nv.data(), nv.size(), &provider, nullptr);
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
          return done();
        }
        nghttp2_session_mem_recv(session_, reinterpret_cast<uint8_t*>(buf), r);
      }
    }
  }

 private:
  int fd_;
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
  void SetUp() override {
    RelayOptions options;
    options.listen = "127.0.0.1:0";
    options.threads = 2;
    options.workers = 1;
    options.worker_min_bytes = 512;
    options.max_push_backlog = 256 * 1024;
    relay_ = std::make_unique<H2Relay>(routes_, options, nullptr);
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

}  // namespace
}  // namespace accord
