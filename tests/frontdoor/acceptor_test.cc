// The acceptor both front ends share: connections handed over within the limits, refused past
// them, and no spinning when the process is out of file descriptors.
#include "frontdoor/acceptor.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

#include "frontdoor/sockets.h"
#include "tests/testing/descriptors.h"

namespace accord::frontdoor {
namespace {

int Connect(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  return fd;
}

class AcceptorTest : public ::testing::Test {
 protected:
  void Start(size_t per_address) {
    limits_ = std::make_unique<ConnectionLimits>(ConnectionLimitOptions{100, per_address});
    absl::StatusOr<int> fd = ListenOn("127.0.0.1:0", "--listen");
    ASSERT_TRUE(fd.ok()) << fd.status();
    listen_fd_ = *fd;
    port_ = LocalPort(listen_fd_);
    acceptor_ = std::make_unique<Acceptor>(
        loop_, *limits_, "test",
        [this](int fd, std::string peer) {
          int nodelay = 0;
          socklen_t len = sizeof nodelay;
          getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &nodelay, &len);
          std::lock_guard lock(mu_);
          adopted_.push_back(fd);
          peers_.push_back(peer);
          nodelay_ = nodelay_ && nodelay != 0;
        },
        [this](absl::string_view reason) {
          std::lock_guard lock(mu_);
          rejected_.emplace_back(reason);
        });
    acceptor_->Start(listen_fd_);
    loop_.AddTick(absl::Milliseconds(100), [this] { acceptor_->Resume(); });
    loop_.Start();
  }
  void TearDown() override {
    loop_.Stop();
    for (int fd : adopted_) {
      close(fd);
    }
    close(listen_fd_);
  }
  size_t Adopted() {
    std::lock_guard lock(mu_);
    return adopted_.size();
  }
  // Waits up to 2 s for `n` adopted connections.
  bool WaitAdopted(size_t n) {
    for (int i = 0; i < 200 && Adopted() < n; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return Adopted() >= n;
  }

  EventLoop loop_;
  std::unique_ptr<ConnectionLimits> limits_;
  std::unique_ptr<Acceptor> acceptor_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::mutex mu_;
  std::vector<int> adopted_;
  std::vector<std::string> peers_;
  std::vector<std::string> rejected_;
  bool nodelay_ = true;
};

TEST_F(AcceptorTest, HandsOverConnectionsWithTheirPeerAndNoDelay) {
  Start(10);
  std::vector<int> clients;
  for (int i = 0; i < 3; ++i) {
    clients.push_back(Connect(port_));
  }
  ASSERT_TRUE(WaitAdopted(3));
  std::lock_guard lock(mu_);
  EXPECT_EQ(peers_, std::vector<std::string>(3, "127.0.0.1"));
  EXPECT_TRUE(nodelay_);
  EXPECT_EQ(limits_->from("127.0.0.1"), 3u);
  for (int fd : clients) {
    close(fd);
  }
}

TEST_F(AcceptorTest, ClosesWhatIsPastTheLimitAndCountsIt) {
  Start(2);
  std::vector<int> clients;
  for (int i = 0; i < 4; ++i) {
    clients.push_back(Connect(port_));
  }
  ASSERT_TRUE(WaitAdopted(2));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(Adopted(), 2u);
  char byte;
  EXPECT_EQ(recv(clients[3], &byte, 1, 0), 0);  // closed by the server
  std::lock_guard lock(mu_);
  EXPECT_EQ(rejected_, std::vector<std::string>(2, "connections"));
  for (int fd : clients) {
    close(fd);
  }
}

TEST_F(AcceptorTest, OutOfDescriptorsItPausesInsteadOfSpinningAndResumes) {
  Start(100);
  EXPECT_LT(testing::CpuSecondOutOfDescriptors(port_), 0.3);
  {
    std::lock_guard lock(mu_);
    ASSERT_FALSE(rejected_.empty());
    EXPECT_EQ(rejected_.front(), "descriptors");
  }
  const size_t before = Adopted();
  const int client = Connect(port_);  // accepted again once descriptors are back
  EXPECT_TRUE(WaitAdopted(before + 1));
  close(client);
}

}  // namespace
}  // namespace accord::frontdoor
