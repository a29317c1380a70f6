#include "scoring/engine/attributes.h"

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

// Issue 15, case 5: a misspelled attribute (company.employes) only lost the lead points.
TEST(EngineTest, FullResultsNameMissingAndUnreadAttributes) {
  auto set = Set(kCapsModel);
  sv1::Lead lead = Lead(
      R"({"attributes": {"company": {"employes": 6000, "name": "Acme"}, "email": "a@b.c",
          "tags": ["x"]}})");
  sv1::LeadScore s = ScoreWith(set, lead);
  EXPECT_THAT(s.missing_attributes(),
              ::testing::ElementsAre("company.employees", "company.is_competitor", "phone"));
  EXPECT_THAT(s.unread_attributes(),
              ::testing::ElementsAre("company.employes", "company.name", "tags"));
  // The BASIC view reports neither.
  Evaluation basic{set.get(), 0, -1};
  basic.reasons = false;
  sv1::LeadScore b = Score(basic, lead, kAsOf);
  EXPECT_EQ(b.missing_attributes_size(), 0);
  EXPECT_EQ(b.unread_attributes_size(), 0);
  // At most 20 unread paths.
  std::string many = R"({"attributes": {)";
  for (int i = 0; i < 30; ++i) {
    many += (i ? ", " : "") + std::string("\"a") + std::to_string(100 + i) + "\": 1";
  }
  many += "}}";
  EXPECT_EQ(ScoreWith(set, Lead(many)).unread_attributes_size(), 20);
}

}  // namespace
}  // namespace accord::scoring
