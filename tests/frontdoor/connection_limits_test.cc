#include "frontdoor/connection_limits.h"

#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace accord::frontdoor {
namespace {

TEST(ConnectionLimitsTest, PerAddressAndInAll) {
  ConnectionLimits limits({.max_connections = 5, .max_connections_per_address = 3});
  std::string why;
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(limits.TryAdd("10.0.0.1", &why));
  }
  EXPECT_FALSE(limits.TryAdd("10.0.0.1", &why));
  EXPECT_EQ(why, "10.0.0.1 holds its limit of 3 connections");
  EXPECT_TRUE(limits.TryAdd("10.0.0.2", &why));
  EXPECT_TRUE(limits.TryAdd("::1", &why));
  EXPECT_FALSE(limits.TryAdd("10.0.0.3", &why));  // five in all
  EXPECT_EQ(why, "the server holds its limit of 5 connections");
  EXPECT_EQ(limits.from("10.0.0.3"), 0u);  // a refused address leaves nothing behind
  limits.Remove("10.0.0.1");
  EXPECT_EQ(limits.from("10.0.0.1"), 2u);
  EXPECT_TRUE(limits.TryAdd("10.0.0.3", &why));
  EXPECT_EQ(limits.total(), 5u);
}

TEST(ConnectionLimitsTest, RemovingWhatWasNeverAddedChangesNothing) {
  ConnectionLimits limits({.max_connections = 2, .max_connections_per_address = 2});
  limits.Remove("10.0.0.9");
  EXPECT_EQ(limits.total(), 0u);
}

TEST(ConnectionLimitsTest, ManyThreadsKeepTheCountsExact) {
  ConnectionLimits limits({.max_connections = 100000, .max_connections_per_address = 100000});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::string why;
      const std::string address = "10.0.0." + std::to_string(t % 2);
      for (int i = 0; i < 10000; ++i) {
        ASSERT_TRUE(limits.TryAdd(address, &why));
        if (i % 2 == 0) {
          limits.Remove(address);
        }
      }
    });
  }
  for (std::thread& t : threads) {
    t.join();
  }
  EXPECT_EQ(limits.total(), 20000u);
  EXPECT_EQ(limits.from("10.0.0.0"), 10000u);
}

}  // namespace
}  // namespace accord::frontdoor
