#include "common/server.h"

#include <gtest/gtest.h>

namespace accord {
namespace {

TEST(IsLoopbackTest, AcceptsOnlyLoopbackLiteralsAndLocalhost) {
  for (const char* listen : {"127.0.0.1:7400", "127.255.0.9:0", "[::1]:7400", "localhost:7400",
                             "127.0.0.1", "dns:///localhost:7401", "dns:127.0.0.1:7401"}) {
    EXPECT_TRUE(IsLoopback(listen)) << listen;
  }
  // A name that merely starts with "127." may resolve to a routable address.
  for (const char* listen :
       {"127.internal:7400", "127.example.com:7400", "127.1:7400", "127.0.0.1.nip.io:7400",
        "0.0.0.0:7400", "[::]:7400", "10.0.0.1:7400", "[::ffff:10.0.0.1]:7400", "localhost.:7400",
        "localhostx:7400", ":7400", "", "[::1:7400", "128.0.0.1:7400", "dns:///registry:7401"}) {
    EXPECT_FALSE(IsLoopback(listen)) << listen;
  }
}

}  // namespace
}  // namespace accord
