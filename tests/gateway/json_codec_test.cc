// The gateway's JSON conversion (json_codec.h) against protobuf's json_util, the reference:
// the same JSON from the same wire bytes, the same message from the same JSON, and the same
// error for the same bad JSON, on the example leads and on messages with every kind of field
// the API has (doubles, enums, oneofs, Struct, Timestamp, repeated, maps).
#include "gateway/json_codec.h"

#include <cmath>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "google/protobuf/struct.pb.h"
#include "google/protobuf/stubs/strutil.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"

#include "accord/registry/v1/definition.pb.h"
#include "accord/registry/v1/registry.pb.h"
#include "accord/scoring/v1/scoring.pb.h"
#include "gateway/http_rules.h"
#include "gateway/json_direct.h"
#include "tests/testing/json_reference.h"

namespace accord::gateway {
namespace {

using google::protobuf::Message;

// `json` read as a message of `prototype`'s type and written back: json_codec (the direct
// conversion where it can) does as json_util does. `direct`: the direct reader must take it.
void ExpectSameAsJsonUtil(const Message& prototype, const std::string& json, bool direct = false) {
  bool took = false;
  EXPECT_EQ(testing::DifferenceFromJsonUtil(prototype, json, &took), "") << json;
  if (direct) {
    EXPECT_TRUE(took) << "the direct reader declined " << json;
  }
}

// `message` written by the direct printer, exactly as json_util writes it.
void ExpectPrintedAsJsonUtil(const Message& message) {
  std::string want;
  ASSERT_TRUE(google::protobuf::util::MessageToJsonString(message, &want).ok());
  std::string got;
  ASSERT_TRUE(PrintJsonDirect(message, got)) << message.ShortDebugString();
  EXPECT_EQ(got, want);
}

TEST(JsonCodecTest, TheExampleLeadsConvertAsJsonUtilConvertsThem) {
  std::ifstream in(std::string(ACCORD_EXAMPLES_DIR) + "/../leads.jsonl");
  ASSERT_TRUE(in.good());
  std::string line;
  int n = 0;
  while (std::getline(in, line) && n < 200) {
    ExpectSameAsJsonUtil(scoring::v1::Lead(), line, /*direct=*/true);
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
    "asOf": "2026-11-01T12:00:00.120Z"})",
                       /*direct=*/true);
  ExpectSameAsJsonUtil(scoring::v1::ScoreLeadRequest(), R"({
    "lead": {"id": "x", "attributes": {"a": null, "b": [1, "two", {"c": false}], "d": 1.5},
             "events": [{"type": "page_view", "time": "2026-01-01T00:00:00Z",
                         "properties": {"path": "/pricing"}}]},
    "asOf": "2026-11-01T12:00:00Z", "view": "BASIC"})",
                       /*direct=*/true);
  ExpectSameAsJsonUtil(registry::v1::ListDefinitionsRequest(),
                       R"({"parent": "namespaces/default", "pageSize": 50})", /*direct=*/true);
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

TEST(JsonCodecTest, StringsReadAndWrittenAsJsonUtilDoes) {
  // Every escape form, controls, the code points json_util escapes, the ones beside them,
  // surrogate pairs; and what the direct reader declines (lone surrogates, raw controls, bad
  // UTF-8, unknown escapes) still gets json_util's answer.
  for (const char* text :
       {R"("plain")", R"("\"\\\/\b\f\n\r\t")", R"("\u0000\u001f\u007f\u0080\u00ad")",
        R"("\u00e9\u2028\u2029\u202f\ufeff\ud83d\ude00\udb40\udc01")", "\"<a href='x'>&amp;</a>\"",
        "\"\xc3\xa9 \xe2\x80\xa8 \xf0\x9f\x98\x80\"", R"("\ud800")", R"("\udc00x")", R"("\u12")",
        R"("\x41")", "\"tab\there\"", "\"\xff\"", "\"\xc0\xaf\"", "\"\xed\xa0\x80\"",
        R"("\uD83D\uDE00")"}) {
    ExpectSameAsJsonUtil(scoring::v1::Lead(), absl::StrCat(R"({"id": )", text, "}"));
    ExpectSameAsJsonUtil(google::protobuf::Value(), text);
  }
  google::protobuf::Value v;
  std::string all;
  for (int c = 1; c < 0x80; ++c) {
    all += static_cast<char>(c);
  }
  for (uint32_t cp : {0x80u,    0x9Fu,    0xA0u,    0xADu,    0x600u,   0x604u,   0x6DDu,
                      0x70Fu,   0x17B4u,  0x17B6u,  0x200Au,  0x200Bu,  0x2027u,  0x202Eu,
                      0x202Fu,  0x2060u,  0x2065u,  0x206Au,  0xFEFFu,  0xFFF9u,  0xFFFCu,
                      0x1D173u, 0x1D17Bu, 0xE0001u, 0xE0020u, 0xE007Fu, 0xE0080u, 0x10FFFFu}) {
    google::protobuf::Value one;
    std::string s;
    if (cp < 0x800) {
      s = {static_cast<char>(0xC0 | (cp >> 6)), static_cast<char>(0x80 | (cp & 0x3F))};
    } else if (cp < 0x10000) {
      s = {static_cast<char>(0xE0 | (cp >> 12)), static_cast<char>(0x80 | ((cp >> 6) & 0x3F)),
           static_cast<char>(0x80 | (cp & 0x3F))};
    } else {
      s = {static_cast<char>(0xF0 | (cp >> 18)), static_cast<char>(0x80 | ((cp >> 12) & 0x3F)),
           static_cast<char>(0x80 | ((cp >> 6) & 0x3F)), static_cast<char>(0x80 | (cp & 0x3F))};
    }
    all += s;
    one.set_string_value(s);
    ExpectPrintedAsJsonUtil(one);
  }
  v.set_string_value(all);
  ExpectPrintedAsJsonUtil(v);
}

TEST(JsonCodecTest, NumbersReadAndWrittenAsJsonUtilDoes) {
  for (const char* n : {"0",
                        "-1",
                        "1.5",
                        "1e21",
                        "1E-7",
                        "-0.0",
                        "0.1",
                        "123456789012345678",
                        "9007199254740992",
                        "9007199254740993",
                        "-0",
                        "1e400",
                        "1e-400",
                        "01",
                        "1.",
                        ".5",
                        "+1",
                        "2.5e-300",
                        "1e+2",
                        "4.9e-324",
                        "1.7976931348623157e308",
                        "\"1\"",
                        "\"NaN\"",
                        "\"Infinity\"",
                        "true",
                        "null"}) {
    ExpectSameAsJsonUtil(scoring::v1::Reason(), absl::StrCat(R"({"points": )", n, "}"));
    ExpectSameAsJsonUtil(scoring::v1::Reason(), absl::StrCat(R"({"eventsCounted": )", n, "}"));
    ExpectSameAsJsonUtil(scoring::v1::DefinitionRef(), absl::StrCat(R"({"revision": )", n, "}"));
    ExpectSameAsJsonUtil(google::protobuf::Value(), n);
  }
  for (const char* n :
       {"2147483647", "2147483648", "-2147483648", "-2147483649", "9223372036854775807",
        "9223372036854775808", "\"-5\"", "\" 5\"", "\"5 \"", "\"0x10\"", "\"1e3\""}) {
    ExpectSameAsJsonUtil(scoring::v1::Reason(), absl::StrCat(R"({"eventsCounted": )", n, "}"));
    ExpectSameAsJsonUtil(scoring::v1::DefinitionRef(), absl::StrCat(R"({"revision": )", n, "}"));
  }
  google::protobuf::ListValue list;
  for (double d : {0.0, -0.0, 50.0, 0.1, 1e20, 1e21, 1e-7, 1.0 / 3, 123456789012345678.0, 2.5e-300,
                   4.9e-324, 1.7976931348623157e308, -12.75}) {
    list.add_values()->set_number_value(d);
  }
  ExpectPrintedAsJsonUtil(list);
}

TEST(JsonCodecTest, DoublesAreWrittenAsSimpleDtoaWritesThem) {
  std::mt19937_64 rng(20261206);
  std::vector<double> values = {1e15,
                                1e16,
                                123456789012345.0,
                                1234567890123456.0,
                                1e-4,
                                1e-5,
                                0.00012,
                                99999.5,
                                -7.25,
                                5e-324,
                                1e308,
                                0.1 + 0.2,
                                100,
                                1e14 + 0.5,
                                -1e-300};
  for (int i = 0; i < 20000; ++i) {
    const uint64_t bits = rng();
    double random;
    std::memcpy(&random, &bits, sizeof random);
    values.push_back(random);  // any bits
    values.push_back(static_cast<double>(static_cast<int64_t>(rng() % 2000001) - 1000000) /
                     std::pow(10.0, static_cast<double>(rng() % 12)));     // few digits
    values.push_back(static_cast<double>(rng() % 100000000000000000ull));  // integers
  }
  for (double d : values) {
    if (!std::isfinite(d)) {
      continue;
    }
    std::string got;
    AppendDouble(d, got);
    ASSERT_EQ(got, google::protobuf::SimpleDtoa(d)) << d;
  }
}

TEST(JsonCodecTest, TimestampsReadAndWrittenAsJsonUtilDoes) {
  for (const char* t : {"2026-11-01T12:00:00Z",
                        "2026-11-01T12:00:00.1Z",
                        "2026-11-01T12:00:00.123456789Z",
                        "2026-11-01T12:00:00.1234567891Z",
                        "2026-11-01T12:00:00+02:00",
                        "2026-11-01T12:00:00-11:30",
                        "0001-01-01T00:00:00Z",
                        "9999-12-31T23:59:59.999999999Z",
                        "0000-12-31T23:59:59Z",
                        "0001-01-01T00:00:00+01:00",
                        "9999-12-31T23:59:59-01:00",
                        "2026-02-29T00:00:00Z",
                        "2024-02-29T00:00:00Z",
                        "2026-13-01T00:00:00Z",
                        "2026-11-01T24:00:00Z",
                        "2026-11-01T12:00:60Z",
                        "2026-11-01 12:00:00Z",
                        "2026-11-01T12:00:00z",
                        "2026-11-01T12:00:00",
                        "2026-11-01T12:00:00.Z",
                        "2026-11-01T12:00:00+0200",
                        "2026-11-01T12:00:00+24:00",
                        "1970-01-01T00:00:00Z",
                        "1969-12-31T23:59:59.5Z"}) {
    ExpectSameAsJsonUtil(scoring::v1::ScoreLeadRequest(), absl::StrCat(R"({"asOf": ")", t, "\"}"));
  }
  scoring::v1::StageEntry entry;
  for (int64_t seconds : {int64_t{0}, int64_t{-1}, int64_t{1793534400}, int64_t{-62135596800},
                          int64_t{253402300799}}) {
    for (int nanos : {0, 5, 5000, 5000000, 120000000, 999999999}) {
      entry.mutable_time()->set_seconds(seconds);
      entry.mutable_time()->set_nanos(nanos);
      ExpectPrintedAsJsonUtil(entry);
    }
  }
}

TEST(JsonCodecTest, StructureReadAsJsonUtilReadsIt) {
  for (const char* json : {R"({"lead": {"id": "a", "id": "b"}})",            // a key twice
                           R"({"lead": {"attributes": {"a": 1, "a": 2}}})",  // a Struct key twice
                           R"({"lead_id": "x"})",
                           R"({"lead": {"stage_history": []}})",
                           R"({"lead": {"stageHistory": [null]}})",
                           R"({"lead": null})",
                           R"({"lead": {"events": {}}})",
                           R"({"view": 1})",
                           R"({"view": "basic"})",
                           R"({"selector": {"modelRevision": "3"}})",
                           R"({ } )",
                           " \t\n{\"lead\":{}}\r\n",
                           R"({"lead": {}} x)",
                           R"([])",
                           R"("s")",
                           R"({"lead": {"attributes": []}})",
                           R"({"lead": {"attributes": {"x": [[[[]]]], "y": {}}}})",
                           R"({,})",
                           R"({"lead":{},})",
                           R"({"lead": {"events": [{"time": null}]}})"}) {
    ExpectSameAsJsonUtil(scoring::v1::ScoreLeadRequest(), json);
  }
}

TEST(JsonCodecTest, TheDirectReaderTakesNoDeeperNestingThanTheGatewayAllows) {
  // {"lead":{"attributes":{"a":[[...]]}}}: three objects, then arrays to `levels` in all.
  auto nested = [](int levels) {
    return absl::StrCat(R"({"lead":{"attributes":{"a":)", std::string(levels - 3, '['),
                        std::string(levels - 3, ']'), "}}}");
  };
  scoring::v1::ScoreLeadRequest request;
  EXPECT_TRUE(ParseJsonDirect(nested(kMaxJsonDepth), request));
  EXPECT_EQ(JsonDepth(nested(kMaxJsonDepth)), kMaxJsonDepth);
  request.Clear();
  EXPECT_FALSE(ParseJsonDirect(nested(kMaxJsonDepth + 1), request));
}

TEST(JsonCodecTest, AFullScoreIsWrittenDirectlyAsJsonUtilWritesIt) {
  scoring::v1::LeadScore score;
  score.set_lead_id("lead-1");
  score.set_namespace_("default");
  score.set_fit(72.5);
  score.set_engagement(-3);
  score.set_total(69.5);
  score.set_fit_grade("A");
  score.set_engagement_grade("2");
  score.set_grade("A2");
  score.set_level("MQL");
  score.set_disqualified(true);
  score.set_disqualification_reason("competitor");
  score.mutable_persona()->set_persona("namespaces/default/definitions/it-director");
  score.mutable_persona()->set_revision(7);
  score.mutable_persona()->set_match(0.8);
  score.mutable_persona()->add_criteria_met("title");
  score.set_journey_stage("mql");
  auto* reason = score.add_reasons();
  reason->set_kind(scoring::v1::Reason::ENGAGEMENT);
  reason->set_rule("web <visits>");
  reason->set_points(12.25);
  reason->set_events_counted(3);
  score.add_reasons()->set_kind(static_cast<scoring::v1::Reason::Kind>(42));  // unknown number
  score.set_no_rule_matched(true);
  score.add_definitions()->set_name("b2b");
  score.mutable_as_of()->set_seconds(1793534400);
  score.add_missing_attributes("company.size");
  score.add_unread_attributes("campaign");
  ExpectPrintedAsJsonUtil(score);
  ExpectPrintedAsJsonUtil(scoring::v1::LeadScore());
}

TEST(JsonCodecTest, WhatTheDirectPrinterDeclinesJsonUtilWrites) {
  google::protobuf::Value nan;
  nan.set_number_value(std::numeric_limits<double>::quiet_NaN());
  std::string out;
  EXPECT_FALSE(PrintJsonDirect(nan, out));
  absl::StatusOr<std::string> json =
      WireToJson(google::protobuf::Value::descriptor(), nan.SerializeAsString());
  ASSERT_TRUE(json.ok());
  EXPECT_EQ(*json, R"("NaN")");
}

// Wire bytes protobuf's serializer would not write: fields out of order (as scoring writes a
// score, reasons last) are written in number order; a singular field twice, an explicit
// default, an unknown field, another kind of a Value after the first are declined by the direct
// printer and written by json_util. Either way the JSON is json_util's for their message.
TEST(JsonCodecTest, WireBytesTheSerializerWouldNotWriteGetJsonUtilsAnswer) {
  auto tag = [](int number, int wire_type) {
    return std::string(1, static_cast<char>((number << 3) | wire_type));
  };
  auto str = [&](int number, const std::string& v) {
    return tag(number, 2) + static_cast<char>(v.size()) + v;
  };
  const std::string id = str(1, "l-1");
  const std::string ns = str(2, "default");
  const std::string grade = str(8, "B4");
  const std::string zero_fit = tag(3, 1) + std::string(8, '\0');
  std::string reason;
  reason += tag(1, 0) + '\x01';                   // kind FIT
  reason += str(3, "size") + tag(6, 0) + '\x03';  // rule, events_counted 3
  const std::string reasons = tag(14, 2) + static_cast<char>(reason.size()) + reason;
  for (const auto& [wire, direct] : std::vector<std::pair<std::string, bool>>{
           {id + ns + grade + reasons + reasons, true},  // as the serializer writes them
           {ns + id, true},                              // out of order: sorted
           {id + grade + reasons + ns + reasons, true},  // the reasons stay in their order
           {id + reasons + grade, true},
           {id + id, false},  // a field twice
           {ns + id + ns, false},
           {id + zero_fit, false},               // a default written out
           {id + tag(99, 0) + '\x01', false},    // a field it does not know
           {std::string("\x0a\x05l-1"), false},  // cut short
       }) {
    bool took = false;
    EXPECT_EQ(testing::WireDifferenceFromJsonUtil(scoring::v1::LeadScore(), wire, &took), "");
    EXPECT_EQ(took, direct) << scoring::v1::LeadScore().GetTypeName();
  }
  // Two members of a oneof (the last wins), and each alone.
  const std::string persona = tag(10, 2) + '\0';
  const std::string model = tag(11, 2) + '\0';
  for (const auto& [wire, direct] : std::vector<std::pair<std::string, bool>>{
           {persona, true}, {model, true}, {persona + model, false}, {model + persona, false}}) {
    bool took = false;
    EXPECT_EQ(testing::WireDifferenceFromJsonUtil(registry::v1::Definition(), wire, &took), "");
    EXPECT_EQ(took, direct);
  }
  // A Value with two kinds (the last wins), and one with none.
  const std::string two_kinds = std::string("\x20\x01") + "\x1a\x01x";
  bool took = true;
  EXPECT_EQ(testing::WireDifferenceFromJsonUtil(google::protobuf::Value(), two_kinds, &took), "");
  EXPECT_FALSE(took);
  EXPECT_EQ(testing::WireDifferenceFromJsonUtil(google::protobuf::Value(), "", &took), "");
  EXPECT_FALSE(took);
  // A Struct with a key twice: the last wins.
  google::protobuf::Struct one;
  (*one.mutable_fields())["k"].set_number_value(1);
  google::protobuf::Struct other;
  (*other.mutable_fields())["k"].set_string_value("v");
  const std::string twice = one.SerializeAsString() + other.SerializeAsString();
  EXPECT_EQ(testing::WireDifferenceFromJsonUtil(google::protobuf::Struct(), twice, &took), "");
  EXPECT_FALSE(took);
}

// Random edits of valid requests (bytes that matter to JSON inserted, removed, replaced):
// whatever the edit makes, json_codec's answer is json_util's.
TEST(JsonCodecTest, EditedRequestsGetJsonUtilsAnswer) {
  const std::vector<std::string> seeds = {
      R"({"lead": {"id": "l-1", "attributes": {"company": {"employees": 500, "country": "DE"},
          "contact": {"title": "VP \u00e9"}}, "events": [{"type": "webinar",
          "time": "2026-10-01T10:00:00.250Z", "properties": {"asset": "guide", "n": [1, -2.5e3]}}],
          "stageHistory": [{"stage": "mql", "time": "2026-10-02T00:00:00+01:00"}]},
          "asOf": "2026-11-01T12:00:00Z", "view": "FULL",
          "selector": {"namespace": "default", "modelRevision": "4"}})"};
  const std::string alphabet = "{}[]:,\"\\ -+.0123456789eEtfnulrsaZT\xc3\xa9\x01u";
  std::mt19937 rng(20261206);
  int direct = 0;
  constexpr int kRounds = 4000;
  for (int i = 0; i < kRounds; ++i) {
    std::string json = seeds[rng() % seeds.size()];
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits; ++e) {
      const size_t at = rng() % (json.size() + 1);
      const char c = alphabet[rng() % alphabet.size()];
      switch (rng() % 3) {
        case 0:
          json.insert(json.begin() + static_cast<long>(at), c);
          break;
        case 1:
          if (at < json.size()) {
            json.erase(at, 1);
          }
          break;
        default:
          if (at < json.size()) {
            json[at] = c;
          }
      }
    }
    bool took = false;
    ASSERT_EQ(testing::DifferenceFromJsonUtil(scoring::v1::ScoreLeadRequest(), json, &took), "")
        << json;
    direct += took ? 1 : 0;
  }
  // Most single edits inside strings and numbers still make a request the direct reader takes.
  EXPECT_GT(direct, kRounds / 10);
}

}  // namespace
}  // namespace accord::gateway
