#include "scoring/wire/score_encoder.h"

#include <cmath>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
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

// The serving path writes reasons as wire bytes; parsed, they are the Reason messages
// ScoreInto builds: caps, decay details, disqualifiers, persona and operator evidence included.
TEST(ScoreEncoderTest, WireReasonsParseAsTheReasonMessages) {
  for (const char* yaml : {kCapsModel, kDecayModel, kOperators, kPersonas}) {
    auto set = Set(yaml);
    ASSERT_NE(set, nullptr);
    for (int i = 0; i < 30; ++i) {
      sv1::Lead lead = Lead(absl::StrCat(
          R"({"id": "lead-)", i, R"(", "attributes": {"company": {"employees": )", i * 300,
          R"(, "industry": "Software", "is_competitor": )", i % 7 == 0 ? "true" : "false",
          R"(, "tags": ["a", null, "b"]}, "title": "VP Sales", "email": "a@gmail.com"}})"));
      for (int k = 0; k < i % 9; ++k) {
        AddEvent(lead, k % 2 ? "click" : "demo", k * 7 * 3600, k % 3 ? "/pricing" : "");
      }
      LeadSet leads;
      leads.Add(lead);
      for (bool reasons : {true, false}) {
        const Evaluation e{set.get(), 0, -1, reasons};
        sv1::LeadScore expected;
        ScoreInto(e, leads, 0, kAsOf, &expected);
        sv1::LeadScore score;
        std::string wire;
        ScoreWire(e, leads, 0, kAsOf, &score, &wire);
        EXPECT_EQ(score.reasons_size(), 0);
        EXPECT_EQ(wire.empty(), expected.reasons_size() == 0);
        sv1::LeadScore parsed;
        ASSERT_TRUE(parsed.ParseFromString(score.SerializeAsString() + wire));
        EXPECT_EQ(parsed.SerializeAsString(), expected.SerializeAsString()) << i;
      }
    }
  }
}

// The encoder writes these messages' fields by number. A field added to Reason, or a change to
// LeadScore's reasons or to the responses' scores, must be made in scoring/wire/score_encoder.cc
// too; this test fails until the lists here are updated with it.
TEST(ScoreEncoderTest, EncoderKnowsEveryFieldOfReasonAndLeadScore) {
  auto fields = [](const google::protobuf::Descriptor* d) {
    std::string out;
    for (int i = 0; i < d->field_count(); ++i) {
      absl::StrAppend(&out, d->field(i)->number(), ":", d->field(i)->name(), " ");
    }
    return out;
  };
  EXPECT_EQ(fields(sv1::Reason::descriptor()),
            "1:kind 2:group 3:rule 4:description 5:points 6:events_counted 7:evidence 8:detail ");
  const google::protobuf::FieldDescriptor* reasons =
      sv1::LeadScore::descriptor()->FindFieldByName("reasons");
  ASSERT_NE(reasons, nullptr);
  EXPECT_EQ(reasons->number(), 14);
  EXPECT_EQ(sv1::BatchScoreLeadsResponse::descriptor()->FindFieldByName("scores")->number(), 1);
  EXPECT_EQ(sv1::StreamScoreLeadsResponse::descriptor()->FindFieldByName("scores")->number(), 1);
}

// Each field alone and all together, at the edges of their encodings (empty strings and zero
// left out, a negative count as ten bytes, a long string's two-byte length), against protobuf.
TEST(ScoreEncoderTest, ReasonBytesAreProtobufsForEveryFieldAlone) {
  const std::string long_text(300, 'x');
  struct Case {
    ReasonSink::Reason reason;
    bool with_head;
  };
  std::vector<Case> cases = {
      {{.kind = sv1::Reason::FIT}, false},
      {{.kind = sv1::Reason::ENGAGEMENT, .group = "g"}, false},
      {{.kind = sv1::Reason::CAP, .rule = "r", .points = -2.5}, false},
      {{.kind = sv1::Reason::DISQUALIFIER, .description = long_text}, true},
      {{.kind = sv1::Reason::FIT, .events_counted = -1}, false},
      {{.kind = sv1::Reason::FIT, .evidence = "a=b"}, true},
      {{.kind = sv1::Reason::FIT, .detail = long_text}, false},
      {{.kind = sv1::Reason::ENGAGEMENT,
        .group = "g",
        .rule = "r",
        .description = "d",
        .points = 1e300,
        .events_counted = 1 << 20,
        .evidence = "e",
        .detail = "f"},
       true},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    ReasonSink::Reason r = cases[i].reason;
    std::string head;
    if (cases[i].with_head) {
      head = EncodeReasonHead(r.kind, r.group, r.rule, r.description);
      r.head = head;
    }
    std::string wire;
    WireReasons(wire).Add(r);
    sv1::LeadScore expected;
    MessageReasons(expected).Add(r);
    EXPECT_EQ(wire, expected.SerializeAsString()) << "case " << i;
  }
}

TEST(ScoreEncoderTest, ScoreWriterFramesOneOrManyScores) {
  sv1::LeadScore score;
  score.set_lead_id("l1");
  score.set_total(12);
  sv1::LeadScore with_reason = score;
  with_reason.add_reasons()->set_rule("r");
  sv1::LeadScore reason_only;
  *reason_only.add_reasons() = with_reason.reasons(0);
  const std::string reasons = reason_only.SerializeAsString();

  std::string single;
  score.ByteSizeLong();
  ScoreWriter(true, single).Add(score, reasons);
  EXPECT_EQ(single, with_reason.SerializeAsString());

  std::string many;
  ScoreWriter batch(false, many);
  batch.Add(score, reasons);
  batch.Add(score, "");
  sv1::BatchScoreLeadsResponse expected;
  *expected.add_scores() = with_reason;
  *expected.add_scores() = score;
  EXPECT_EQ(many, expected.SerializeAsString());
}

TEST(ScoreEncoderTest, VarintsAsProtobufWritesThem) {
  for (uint64_t v : {0ULL, 1ULL, 127ULL, 128ULL, 16383ULL, 16384ULL, ~0ULL}) {
    std::string ours;
    AppendWireVarint(ours, v);
    std::string theirs;
    {
      google::protobuf::io::StringOutputStream stream(&theirs);
      google::protobuf::io::CodedOutputStream out(&stream);
      out.WriteVarint64(v);
    }
    EXPECT_EQ(ours, theirs) << v;
  }
}

}  // namespace
}  // namespace accord::scoring
