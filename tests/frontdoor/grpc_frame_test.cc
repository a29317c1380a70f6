// The gRPC framing unit on raw bytes: whole and split prefixes, the limit, bad flags.
#include "frontdoor/grpc_frame.h"

#include <string>

#include "gtest/gtest.h"

namespace accord::frontdoor {
namespace {

std::string Message(const std::string& payload, bool compressed = false) {
  std::string out;
  AppendMessage(
      out, [&](std::string& o) { o += payload; }, compressed);
  return out;
}

TEST(GrpcFrameTest, AppendWritesTheFlagAndBigEndianLength) {
  EXPECT_EQ(Message(""), std::string("\0\0\0\0\0", 5));
  EXPECT_EQ(Message("ab", true), std::string("\1\0\0\0\2ab", 7));
  const std::string big = Message(std::string(0x010203, 'x'));
  EXPECT_EQ(big.substr(0, 5), std::string("\0\0\x01\x02\x03", 5));
  std::string two;
  AppendMessage(two, [](std::string& o) { o += "a"; });
  AppendMessage(two, [](std::string& o) { o += "bc"; });
  EXPECT_EQ(two, std::string("\0\0\0\0\1a\0\0\0\0\2bc", 13));
}

TEST(GrpcFrameTest, ReadPrefixNeedsFiveBytesAndAFlagOfZeroOrOne) {
  EXPECT_FALSE(ReadPrefix(std::string("\0\0\0", 3))->has_value());
  auto head = ReadPrefix(Message("hello", true));
  ASSERT_TRUE(head.ok());
  ASSERT_TRUE(head->has_value());
  EXPECT_TRUE((*head)->compressed);
  EXPECT_EQ((*head)->length, 5u);
  head = ReadPrefix(std::string("\0\xff\xff\xff\xff", 5));
  ASSERT_TRUE(head.ok());
  EXPECT_EQ((*head)->length, 0xffffffffu);  // the largest length reads whole
  EXPECT_EQ(ReadPrefix(std::string("\2\0\0\0\0", 5)).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ReadPrefix(std::string("\xff\0\0\0\0", 5)).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(GrpcFrameTest, TheScannerFollowsMessagesSplitAnywhere) {
  const std::string stream = Message("first") + Message("") + Message(std::string(300, 's'));
  for (size_t step = 1; step <= stream.size(); ++step) {
    MessageScanner scanner(1024);
    for (size_t at = 0; at < stream.size(); at += step) {
      ASSERT_TRUE(scanner.Feed(absl::string_view(stream).substr(at, step)).ok()) << step;
    }
    EXPECT_EQ(scanner.messages(), 3u) << step;
    EXPECT_EQ(scanner.partial_bytes(), 0u) << step;
  }
}

TEST(GrpcFrameTest, TheScannerCountsTheMessageUnderWay) {
  MessageScanner scanner(1024);
  const std::string m = Message(std::string(100, 'p'));
  ASSERT_TRUE(scanner.Feed(absl::string_view(m).substr(0, 3)).ok());
  EXPECT_EQ(scanner.partial_bytes(), 3u);
  ASSERT_TRUE(scanner.Feed(absl::string_view(m).substr(3, 50)).ok());
  EXPECT_EQ(scanner.partial_bytes(), 53u);
  ASSERT_TRUE(scanner.Feed(absl::string_view(m).substr(53)).ok());
  EXPECT_EQ(scanner.partial_bytes(), 0u);
}

TEST(GrpcFrameTest, TheScannerRefusesAMessageOverTheLimitAtItsPrefix) {
  MessageScanner scanner(10);
  EXPECT_TRUE(scanner.Feed(Message(std::string(10, 'a'))).ok());
  absl::Status status = scanner.Feed(std::string("\0\0\0\0\x0b", 5));
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(status.message().find("11 bytes exceeds the limit of 10"), std::string::npos);
  MessageScanner huge(4 << 20);
  EXPECT_EQ(huge.Feed(std::string("\0\xff\xff\xff\xff", 5)).code(),
            absl::StatusCode::kResourceExhausted);
}

TEST(GrpcFrameTest, TheScannerRefusesABadFlag) {
  MessageScanner scanner(1024);
  EXPECT_EQ(scanner.Feed(std::string("\x05\0\0\0\0", 5)).code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace accord::frontdoor
