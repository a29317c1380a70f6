// The gateway's JSON conversion (json_codec.h) against protobuf's json_util, the reference:
// the same JSON from the same wire bytes, the same message from the same JSON, and the same
// error for the same bad JSON, on the example leads and on messages with every kind of field
// the API has (doubles, enums, oneofs, Struct, Timestamp, repeated, maps).
#include "gateway/json_codec.h"

#include <fstream>
#include <string>
#include <vector>

#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"

#include "accord/registry/v1/registry.pb.h"
#include "accord/scoring/v1/scoring.pb.h"

namespace accord::gateway {
namespace {

using google::protobuf::Message;

// Converts `json` to a message of `prototype`'s type both ways and back to JSON both ways.
void ExpectSameAsJsonUtil(const Message& prototype, const std::string& json) {
  std::unique_ptr<Message> reference(prototype.New());
  google::protobuf::util::JsonParseOptions options;
  const auto want = google::protobuf::util::JsonStringToMessage(json, reference.get(), options);
  std::unique_ptr<Message> ours(prototype.New());
  const absl::Status got = JsonToMessage(json, *ours);
  ASSERT_EQ(got.ok(), want.ok()) << json << "\n" << got << " vs " << want.ToString();
  if (!want.ok()) {
    EXPECT_EQ(std::string(got.message()), want.message().ToString()) << json;
    return;
  }
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*ours, *reference)) << json;
  std::string printed;
  ASSERT_TRUE(google::protobuf::util::MessageToJsonString(*reference, &printed).ok());
  absl::StatusOr<std::string> wire_json =
      WireToJson(prototype.GetDescriptor(), reference->SerializeAsString());
  ASSERT_TRUE(wire_json.ok()) << wire_json.status();
  EXPECT_EQ(*wire_json, printed);
}

TEST(JsonCodecTest, TheExampleLeadsConvertAsJsonUtilConvertsThem) {
  std::ifstream in(std::string(ACCORD_EXAMPLES_DIR) + "/../leads.jsonl");
  ASSERT_TRUE(in.good());
  std::string line;
  int n = 0;
  while (std::getline(in, line) && n < 200) {
    ExpectSameAsJsonUtil(scoring::v1::Lead(), line);
    ++n;
  }
  EXPECT_GT(n, 10);
}

TEST(JsonCodecTest, EveryKindOfFieldConvertsAsJsonUtilConvertsIt) {
  ExpectSameAsJsonUtil(scoring::v1::LeadScore(), R"({
    "leadId": "l-1", "namespace": "default", "fit": 40.5, "engagement": 1e-7, "total": 1e21,
    "fitGrade": "B", "grade": "B4", "level": "MQL", "disqualified": true,
    "persona": {"persona": "cfo", "revision": "12", "match": 0.75, "criteriaMet": ["a", "b"]},
    "reasons": [{"kind": "FIT", "rule": "size-mid", "points": 15, "evidence": "<a&b>\u2028"},
                {"kind": "ENGAGEMENT", "rule": "web", "points": -2.25}],
    "asOf": "2026-11-01T12:00:00.120Z"})");
  ExpectSameAsJsonUtil(scoring::v1::ScoreLeadRequest(), R"({
    "lead": {"id": "x", "attributes": {"a": null, "b": [1, "two", {"c": false}], "d": 1.5},
             "events": [{"type": "page_view", "time": "2026-01-01T00:00:00Z",
                         "properties": {"path": "/pricing"}}]},
    "asOf": "2026-11-01T12:00:00Z", "view": "BASIC"})");
  ExpectSameAsJsonUtil(registry::v1::ListDefinitionsRequest(),
                       R"({"parent": "namespaces/default", "pageSize": 50})");
}

TEST(JsonCodecTest, BadJsonGetsJsonUtilsError) {
  ExpectSameAsJsonUtil(scoring::v1::ScoreLeadRequest(), R"({"lead": {"unknownField": 1}})");
  ExpectSameAsJsonUtil(scoring::v1::ScoreLeadRequest(), R"({"lead": {"id": 7}})");
  ExpectSameAsJsonUtil(scoring::v1::ScoreLeadRequest(), R"({"view": "NOT_A_VIEW"})");
  ExpectSameAsJsonUtil(scoring::v1::ScoreLeadRequest(), R"({"asOf": "yesterday"})");
  ExpectSameAsJsonUtil(scoring::v1::ScoreLeadRequest(), R"({"lead": )");
}

TEST(JsonCodecTest, BytesThatAreNoMessageAreAnError) {
  EXPECT_FALSE(WireToJson(scoring::v1::LeadScore::descriptor(), "\xff\xff\xff").ok());
}

}  // namespace
}  // namespace accord::gateway
