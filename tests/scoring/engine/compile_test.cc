#include "scoring/engine/compile.h"

#include <cmath>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"

#include "tests/scoring/engine/engine_fixtures.h"
#include "tests/testing/status_matchers.h"

namespace accord::scoring {
namespace {

using google::protobuf::util::TimeUtil;
using namespace ::accord::scoring::engine_test;  // NOLINT(google-build-using-namespace)

TEST(EngineTest, CompileRejectsDanglingReferencesWholesale) {
  auto docs = definitions::ParseDefinitions(R"(
name: namespaces/default/definitions/m
qualification_model: {personas: [ghost]}
)",
                                            "t");
  std::vector<PublishedDefinition> defs{
      {docs->front().definition.name(), 1, docs->front().definition}};
  auto set = Compile("default", defs);
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(set.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(set.status().message().find("personas[0]"), std::string::npos) << set.status();
}

}  // namespace
}  // namespace accord::scoring
