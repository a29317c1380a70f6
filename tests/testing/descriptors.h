#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace accord::testing {

// The CPU seconds this process spends in one second while it is out of file descriptors and
// 40 connections wait to be accepted by the server at 127.0.0.1:`port` (a server in this
// process: its accept fails with EMFILE). A server that spins on accept takes a core. The
// descriptor limit and the connections are given back before it returns.
inline double CpuSecondOutOfDescriptors(int port) {
  rlimit saved{};
  getrlimit(RLIMIT_NOFILE, &saved);
  int open_now = 0;
  for (int fd = 0; fd < 4096; ++fd) {
    open_now += fcntl(fd, F_GETFD) != -1 ? 1 : 0;
  }
  rlimit low = saved;
  low.rlim_cur = open_now + 16;
  EXPECT_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
  // Every descriptor left is taken before the first connect, so the server cannot win one by
  // accepting while the sockets are still being made (it then never ran out: a flake).
  std::vector<int> sockets;
  for (int i = 0; i < 40; ++i) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0) {
      break;
    }
    sockets.push_back(fd);
  }
  for (int fd : sockets) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  rusage before{}, after{};
  getrusage(RUSAGE_SELF, &before);
  std::this_thread::sleep_for(std::chrono::seconds(1));
  getrusage(RUSAGE_SELF, &after);
  auto cpu = [](const rusage& r) {
    return r.ru_utime.tv_sec + r.ru_stime.tv_sec + (r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6;
  };
  for (int fd : sockets) {
    close(fd);
  }
  EXPECT_EQ(setrlimit(RLIMIT_NOFILE, &saved), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  return cpu(after) - cpu(before);
}

}  // namespace accord::testing
