#include "common/status.h"

#include "gtest/gtest.h"

#include "common/utf8.h"

namespace accord {
namespace {

TEST(StatusTest, AMessageQuotingBytesThatAreNotUtf8IsEscaped) {
  // The relay quotes a client's grpc-encoding in its error; a string field must stay UTF-8.
  const absl::Status status =
      absl::UnimplementedError("grpc-encoding \xff\xfe-zip is not supported");
  const google::rpc::Status rpc = ToRpcStatus(status);
  EXPECT_TRUE(IsValidUtf8(rpc.message()));
  EXPECT_EQ(rpc.message(), "grpc-encoding \\xff\\xfe-zip is not supported");
  google::rpc::Status parsed;
  ASSERT_TRUE(parsed.ParseFromString(ToGrpcStatus(status).error_details()));
  EXPECT_EQ(parsed.message(), rpc.message());
  // Valid UTF-8 is kept as it is.
  EXPECT_EQ(ToRpcStatus(absl::InvalidArgumentError("caf\xc3\xa9")).message(), "caf\xc3\xa9");
}

}  // namespace
}  // namespace accord
