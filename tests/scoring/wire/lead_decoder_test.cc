// LeadSet: leads decoded from wire bytes read the same as the Lead messages protobuf's parser
// builds from the same bytes (merges, repeated keys, unknown fields included), bad bytes are
// refused exactly when protobuf refuses them, and errors name the field.
#include "scoring/wire/lead_decoder.h"

#include <map>
#include <random>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

#include "common/utf8.h"
#include "scoring/lead_set.h"

namespace accord::scoring {
namespace {

using google::protobuf::Value;

// A canonical text of a value: struct keys sorted, the last entry of a repeated key kept.
std::string Dump(const LeadSet& set, int32_t v);

std::string DumpStruct(const LeadSet& set, int32_t s) {
  std::map<std::string, std::string> fields;
  for (int32_t e = set.value(s).first; e >= 0; e = set.entry(e).next) {
    const LeadSet::Entry& entry = set.entry(e);
    fields[std::string(entry.key)] = entry.value < 0 ? "unset" : Dump(set, entry.value);
  }
  std::string out = "{";
  for (const auto& [k, v] : fields) {
    absl::StrAppend(&out, k, ":", v, ",");
  }
  return out + "}";
}

std::string Dump(const LeadSet& set, int32_t v) {
  const LeadSet::Value& value = set.value(v);
  switch (value.kind) {
    case LeadSet::Value::Kind::kUnset:
      return "unset";
    case LeadSet::Value::Kind::kNull:
      return "null";
    case LeadSet::Value::Kind::kNumber:
      return absl::StrCat(value.number);
    case LeadSet::Value::Kind::kString:
      return absl::StrCat("'", value.text, "'");
    case LeadSet::Value::Kind::kBool:
      return value.boolean ? "true" : "false";
    case LeadSet::Value::Kind::kStruct:
      return DumpStruct(set, v);
    case LeadSet::Value::Kind::kList: {
      std::string out = "[";
      for (int32_t e = value.first; e >= 0; e = set.value(e).next) {
        absl::StrAppend(&out, Dump(set, e), ",");
      }
      return out + "]";
    }
  }
  return "?";
}

std::string DumpLead(const LeadSet& set, size_t i) {
  const LeadSet::Lead& lead = set.lead(i);
  std::string out =
      absl::StrCat("id=", lead.id,
                   " attributes=", lead.attributes < 0 ? "none" : DumpStruct(set, lead.attributes));
  for (int32_t k = 0; k < lead.events; ++k) {
    const LeadSet::Event& e = set.event(lead.first_event + k);
    absl::StrAppend(&out, " event(", e.type, ",", e.has_time, ",", e.time.ns(), ",",
                    e.properties < 0 ? "none" : DumpStruct(set, e.properties), ")");
  }
  return out;
}

void RandomValue(std::mt19937& rng, Value* v, int depth) {
  switch (rng() % (depth > 2 ? 4 : 6)) {
    case 0:
      v->set_null_value(google::protobuf::NULL_VALUE);
      break;
    case 1:
      v->set_number_value(static_cast<double>(rng() % 1000) / 8);
      break;
    case 2:
      v->set_string_value(absl::StrCat("s", rng() % 50, rng() % 3 ? "" : " \xc3\xa9t\xc3\xa9"));
      break;
    case 3:
      v->set_bool_value(rng() % 2 == 0);
      break;
    case 4:
      for (int i = 0, n = static_cast<int>(rng() % 4); i < n; ++i) {
        RandomValue(rng, &(*v->mutable_struct_value()->mutable_fields())[absl::StrCat("k", i)],
                    depth + 1);
      }
      break;
    default:
      v->mutable_list_value();
      for (int i = 0, n = static_cast<int>(rng() % 4); i < n; ++i) {
        RandomValue(rng, v->mutable_list_value()->add_values(), depth + 1);
      }
      break;
  }
}

sv1::Lead RandomLead(std::mt19937& rng, int i) {
  sv1::Lead lead;
  lead.set_id(absl::StrCat("lead-", i));
  for (int k = 0, n = static_cast<int>(rng() % 6); k < n; ++k) {
    RandomValue(rng, &(*lead.mutable_attributes()->mutable_fields())[absl::StrCat("a", k)], 0);
  }
  for (int k = 0, n = static_cast<int>(rng() % 4); k < n; ++k) {
    sv1::Event* e = lead.add_events();
    e->set_type(absl::StrCat("event-", rng() % 3));
    if (rng() % 4 != 0) {
      e->mutable_time()->set_seconds(1800000000 - static_cast<int64_t>(rng() % 100000));
      e->mutable_time()->set_nanos(static_cast<int32_t>(rng() % 1000));
    }
    if (rng() % 2 == 0) {
      RandomValue(rng, &(*e->mutable_properties()->mutable_fields())["path"], 1);
    }
  }
  if (rng() % 3 == 0) {
    sv1::StageEntry* s = lead.add_stage_history();
    s->set_stage("engaged");
  }
  return lead;
}

// Decodes `bytes` as a BatchScoreLeadsRequest both ways and expects the same leads.
void ExpectSameAsProtobuf(const std::string& bytes) {
  sv1::BatchScoreLeadsRequest parsed;
  const bool protobuf_ok = parsed.ParseFromString(bytes);
  LeadSet decoded;
  LeadRequest request;
  const absl::Status status = DecodeLeadRequest(bytes, false, "leads", decoded, &request);
  ASSERT_EQ(status.ok(), protobuf_ok) << status << " " << absl::CEscape(bytes);
  if (!protobuf_ok) {
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    return;
  }
  LeadSet expected;
  for (const sv1::Lead& lead : parsed.leads()) {
    expected.Add(lead);
  }
  ASSERT_EQ(decoded.size(), expected.size());
  for (size_t i = 0; i < decoded.size(); ++i) {
    EXPECT_EQ(DumpLead(decoded, i), DumpLead(expected, i));
  }
  EXPECT_EQ(request.view, parsed.view());
  EXPECT_EQ(request.as_of.seconds(), parsed.as_of().seconds());
  EXPECT_EQ(request.selector.SerializeAsString(), parsed.selector().SerializeAsString());
}

TEST(LeadDecoderTest, DecodesGeneratedLeadsLikeProtobuf) {
  std::mt19937 rng(7);
  for (int round = 0; round < 200; ++round) {
    sv1::BatchScoreLeadsRequest request;
    for (int i = 0, n = static_cast<int>(rng() % 4); i < n; ++i) {
      *request.add_leads() = RandomLead(rng, i);
    }
    request.mutable_selector()->set_model("m");
    request.mutable_as_of()->set_seconds(1800000000);
    request.set_view(sv1::BASIC);
    ExpectSameAsProtobuf(request.SerializeAsString());
  }
}

TEST(LeadDecoderTest, RepeatedKeysMergesAndUnknownFieldsFollowProtobuf) {
  sv1::Lead a;
  a.set_id("first");
  (*a.mutable_attributes()->mutable_fields())["x"].set_number_value(1);
  (*a.mutable_attributes()->mutable_fields())["s"].mutable_struct_value();
  (*(*a.mutable_attributes()->mutable_fields())["s"].mutable_struct_value()->mutable_fields())["p"]
      .set_string_value("one");
  sv1::Lead b;
  b.set_id("second");
  (*b.mutable_attributes()->mutable_fields())["x"].set_string_value("replaced");
  (*(*b.mutable_attributes()->mutable_fields())["s"].mutable_struct_value()->mutable_fields())["q"]
      .set_bool_value(true);
  b.add_events()->set_type("merged-event");
  // ScoreLeadRequest with `lead` twice: protobuf merges the two.
  sv1::ScoreLeadRequest first, second;
  *first.mutable_lead() = a;
  *second.mutable_lead() = b;
  std::string bytes = first.SerializeAsString() + second.SerializeAsString();
  // Unknown fields of every wire type, a group among them, at the request level.
  bytes += std::string("\x48\x05", 2);                       // field 9 varint
  bytes += std::string("\x51", 1) + std::string(8, '\x01');  // field 10 fixed64
  bytes += std::string("\x5a\x02hi", 4);                     // field 11 bytes
  bytes += std::string("\x65", 1) + std::string(4, '\x02');  // field 12 fixed32
  bytes += std::string("\x6b\x08\x01\x6c", 4);               // field 13 group
  bytes += std::string("\x20\x01", 2);                       // view = BASIC
  sv1::ScoreLeadRequest parsed;
  ASSERT_TRUE(parsed.ParseFromString(bytes));
  LeadSet expected;
  expected.Add(parsed.lead());
  LeadSet decoded;
  LeadRequest request;
  ASSERT_TRUE(DecodeLeadRequest(bytes, true, "lead", decoded, &request).ok());
  ASSERT_EQ(decoded.size(), 1u);
  EXPECT_EQ(DumpLead(decoded, 0), DumpLead(expected, 0));
  EXPECT_EQ(request.view, sv1::BASIC);
  EXPECT_EQ(decoded.Field(decoded.lead(0).attributes, "x")->text, "replaced");
}

TEST(LeadDecoderTest, TruncatedAndMutatedBytesAreRefusedExactlyWhenProtobufRefusesThem) {
  std::mt19937 rng(11);
  sv1::BatchScoreLeadsRequest request;
  for (int i = 0; i < 3; ++i) {
    *request.add_leads() = RandomLead(rng, i);
  }
  const std::string bytes = request.SerializeAsString();
  for (size_t n = 0; n <= bytes.size(); ++n) {
    ExpectSameAsProtobuf(bytes.substr(0, n));
  }
  for (int round = 0; round < 3000; ++round) {
    std::string mutated = bytes;
    for (int k = 0, n = 1 + static_cast<int>(rng() % 3); k < n; ++k) {
      mutated[rng() % mutated.size()] = static_cast<char>(rng() % 256);
    }
    ExpectSameAsProtobuf(mutated);
  }
}

TEST(LeadDecoderTest, TagAndLengthVarintsFollowProtobuf) {
  for (const std::string& bytes : {
           std::string("\xd0\x9a\x9a\x9a\x65\x9a\x06", 7),  // 5-byte tag, bits past 32
           std::string("\xd0\x9a\x9a\x9a\xe5\x01\x00", 7),  // 6-byte tag
           std::string("\x12\x80\x80\x80\x80\x00", 6),      // 5-byte length 0
           std::string("\x12\x80\x80\x80\x80\x80\x00", 7),  // 6-byte length 0
           std::string("\x12\x80\x80\x80\x80\x08", 6),      // length of 2 GiB
           std::string("\x20\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f", 11),  // 10-byte view
       }) {
    ExpectSameAsProtobuf(bytes);
  }
}

TEST(LeadDecoderTest, ErrorsNameTheField) {
  auto decode = [](const std::string& bytes, bool single) {
    LeadSet set;
    LeadRequest request;
    return DecodeLeadRequest(bytes, single, single ? "lead" : "leads", set, &request);
  };
  // Valid messages serialized, then one byte of a string patched to make it invalid UTF-8.
  sv1::ScoreLeadRequest one;
  (*(*one.mutable_lead()->mutable_attributes()->mutable_fields())["company"]
        .mutable_struct_value()
        ->mutable_fields())["name"]
      .set_string_value("BADX");
  std::string bytes = one.SerializeAsString();
  bytes[bytes.find("BADX") + 3] = '\xff';
  absl::Status status = decode(bytes, true);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.ToString().find("lead.attributes.company.name"), std::string::npos) << status;
  EXPECT_NE(status.ToString().find("UTF-8"), std::string::npos) << status;

  sv1::BatchScoreLeadsRequest batch;
  batch.add_leads();
  batch.add_leads()->add_events()->set_type("ok");
  batch.mutable_leads(1)->add_events()->set_type("BADY");
  bytes = batch.SerializeAsString();
  bytes[bytes.find("BADY") + 3] = '\xc0';
  status = decode(bytes, false);
  EXPECT_NE(status.ToString().find("leads[1].events[1].type"), std::string::npos) << status;

  status = decode(std::string("\x12\x05\x0a", 3), true);  // a lead cut short
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.ToString().find("lead"), std::string::npos) << status;
}

TEST(LeadDecoderTest, NestingDeeperThanProtobufAllowsIsRefused) {
  Value root;
  Value* v = &root;
  for (int i = 0; i < 120; ++i) {
    v = &(*v->mutable_struct_value()->mutable_fields())["d"];
  }
  v->set_number_value(1);
  sv1::ScoreLeadRequest request;
  (*request.mutable_lead()->mutable_attributes()->mutable_fields())["deep"] = root;
  std::string bytes;
  ASSERT_TRUE(request.SerializeToString(&bytes));
  LeadSet set;
  LeadRequest decoded;
  const absl::Status status = DecodeLeadRequest(bytes, true, "lead", set, &decoded);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.ToString().find("nested"), std::string::npos) << status;
}

// The decoder knows these messages' fields by number. A field added to them in the proto must
// be added to scoring/wire/lead_decoder.cc too; this test fails until the lists here are updated
// with it.
TEST(LeadDecoderTest, DecoderKnowsEveryFieldOfTheMessagesItReads) {
  auto fields = [](const google::protobuf::Descriptor* d) {
    std::string out;
    for (int i = 0; i < d->field_count(); ++i) {
      absl::StrAppend(&out, d->field(i)->number(), ":", d->field(i)->name(), " ");
    }
    return out;
  };
  EXPECT_EQ(fields(sv1::Lead::descriptor()), "1:id 2:attributes 3:events 4:stage_history ");
  EXPECT_EQ(fields(sv1::Event::descriptor()), "1:type 2:time 3:properties ");
  EXPECT_EQ(fields(sv1::StageEntry::descriptor()), "1:stage 2:time ");
  EXPECT_EQ(fields(sv1::ScoreLeadRequest::descriptor()), "1:selector 2:lead 3:as_of 4:view ");
  EXPECT_EQ(fields(sv1::BatchScoreLeadsRequest::descriptor()),
            "1:selector 2:leads 3:as_of 4:view ");
  EXPECT_EQ(fields(sv1::StreamScoreLeadsRequest::descriptor()),
            "1:selector 2:leads 3:as_of 4:view ");
  EXPECT_EQ(fields(sv1::ScoreAccountRequest::descriptor()), "1:selector 2:account 3:as_of ");
  EXPECT_EQ(fields(sv1::Account::descriptor()), "1:id 2:attributes 3:members ");
}

TEST(LeadDecoderTest, Utf8Validation) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii, longer than eight bytes"));
  EXPECT_TRUE(IsValidUtf8("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(IsValidUtf8("abcdefgh\xe2\x82"));  // cut short
  EXPECT_FALSE(IsValidUtf8("\x80"));
}

}  // namespace
}  // namespace accord::scoring
