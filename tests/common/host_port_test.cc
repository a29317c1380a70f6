#include "common/host_port.h"

#include "gtest/gtest.h"

namespace accord {
namespace {

TEST(HostPortTest, ParsesHostsPortsAndBracketedLiterals) {
  struct Case {
    const char* address;
    const char* host;
    int port;
  };
  for (const Case& c : {Case{"registry:7401", "registry", 7401},
                        Case{"127.0.0.1:0", "127.0.0.1", 0}, Case{"[::1]:7400", "::1", 7400},
                        Case{":7400", "", 7400}, Case{"host:65535", "host", 65535}}) {
    absl::StatusOr<HostPort> parsed = ParseHostPort(c.address);
    ASSERT_TRUE(parsed.ok()) << c.address << ": " << parsed.status();
    EXPECT_EQ(parsed->host, c.host) << c.address;
    EXPECT_EQ(parsed->port, c.port) << c.address;
  }
  for (const char* bad : {"", "host", "host:", "host:port", "host:65536", "host:-1", "[::1]",
                          "[::1:7400", "::1]:7400", "[]:7400"}) {
    EXPECT_EQ(ParseHostPort(bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(HostPortTest, GrpcDnsTargetsNameTheirHostPort) {
  EXPECT_EQ(HostPortOfTarget("dns:///accord-registry:7401"), "accord-registry:7401");
  EXPECT_EQ(HostPortOfTarget("dns:accord-registry:7401"), "accord-registry:7401");
  EXPECT_EQ(HostPortOfTarget("accord-registry:7401"), "accord-registry:7401");
}

}  // namespace
}  // namespace accord
