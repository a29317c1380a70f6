// Fuzz target: request bytes of the scoring RPCs (ScoreLead, BatchScoreLeads, ScoreAccount).
// The LeadSet decoder must never crash or hang,
// must accept exactly the bytes protobuf's parser accepts, and must read them as protobuf does;
// the reasons written as wire bytes must parse as the Reason messages of the typed path. Scores
// with the example definitions (examples/definitions). Any disagreement aborts.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>

#include "definitions/loader.h"
#include "scoring/account.h"
#include "scoring/engine.h"
#include "scoring/wire/lead_decoder.h"

namespace {

namespace sv1 = accord::scoring::v1;
using accord::scoring::LeadRequest;
using accord::scoring::LeadSet;

const absl::Time kAsOf = absl::FromUnixSeconds(1793534400);  // 2026-11-01T12:00:00Z

void Fail(const char* what) {
  std::cerr << "lead_fuzz: " << what << "\n";
  std::abort();
}

// The example definitions, compiled once.
const accord::scoring::CompiledSet& Examples() {
  static const std::shared_ptr<const accord::scoring::CompiledSet> set = [] {
    std::vector<accord::scoring::PublishedDefinition> defs;
    for (const auto& entry : std::filesystem::directory_iterator(ACCORD_EXAMPLES_DIR)) {
      std::ifstream in(entry.path());
      std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      auto docs = accord::definitions::ParseDefinitions(text, entry.path().string());
      if (!docs.ok()) {
        Fail("cannot read the example definitions");
      }
      for (const auto& d : *docs) {
        defs.push_back({d.definition.name(), 1, d.definition});
      }
    }
    auto compiled = accord::scoring::Compile("default", defs);
    if (!compiled.ok()) {
      Fail("the example definitions do not compile");
    }
    return *compiled;
  }();
  return *set;
}

template <typename Request>
void Check(const std::string& bytes, bool single) {
  LeadSet decoded;
  LeadRequest request;
  const bool ok =
      DecodeLeadRequest(bytes, single, single ? "lead" : "leads", decoded, &request).ok();
  Request parsed;
  if (ok != parsed.ParseFromString(bytes)) {
    Fail("the decoder and protobuf disagree on whether the bytes are valid");
  }
  if (!ok) {
    return;
  }
  LeadSet expected;
  if constexpr (std::is_same_v<Request, sv1::ScoreLeadRequest>) {
    if (parsed.has_lead()) {
      expected.Add(parsed.lead());
    }
  } else {
    for (const sv1::Lead& lead : parsed.leads()) {
      expected.Add(lead);
    }
  }
  if (expected.size() != decoded.size()) {
    Fail("the decoder and protobuf disagree on the number of leads");
  }
  const auto& set = Examples();
  accord::scoring::Evaluation evaluation{&set, 0, set.journeys.empty() ? -1 : 0, true, nullptr};
  for (size_t i = 0; i < decoded.size() && i < 20; ++i) {
    sv1::LeadScore typed;
    accord::scoring::ScoreInto(evaluation, expected, i, kAsOf, &typed);
    sv1::LeadScore score;
    std::string reasons;
    accord::scoring::ScoreWire(evaluation, decoded, i, kAsOf, &score, &reasons);
    sv1::LeadScore wire;
    if (!wire.ParseFromString(score.SerializeAsString() + reasons)) {
      Fail("the wire reasons do not parse");
    }
    if (wire.SerializeAsString() != typed.SerializeAsString()) {
      Fail("the serving path and the typed path score differently");
    }
  }
}

// A ScoreAccountRequest: the decoder must accept what protobuf accepts, read the account and
// its members as protobuf does, and score the account as the message path does.
void CheckAccount(const std::string& bytes) {
  LeadSet decoded;
  LeadRequest request;
  const bool ok = DecodeAccountRequest(bytes, decoded, &request).ok();
  sv1::ScoreAccountRequest parsed;
  if (ok != parsed.ParseFromString(bytes)) {
    Fail("the account decoder and protobuf disagree on whether the bytes are valid");
  }
  if (!ok) {
    return;
  }
  LeadSet expected;
  expected.Add(parsed.account());
  if (expected.size() != decoded.size()) {
    Fail("the account decoder and protobuf disagree on the number of members");
  }
  const auto& set = Examples();
  if (set.accounts.empty() || decoded.size() > 101) {
    return;
  }
  const size_t members = decoded.size() - 1;
  const std::string typed =
      accord::scoring::ScoreAccount(set, 0, expected, 0, members, kAsOf).SerializeAsString();
  const std::string wire =
      accord::scoring::ScoreAccount(set, 0, decoded, 0, members, kAsOf).SerializeAsString();
  if (typed != wire) {
    Fail("the account decoder and the message path score the account differently");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 256 * 1024) {
    return 0;
  }
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  Check<sv1::ScoreLeadRequest>(bytes, true);
  Check<sv1::BatchScoreLeadsRequest>(bytes, false);
  CheckAccount(bytes);
  return 0;
}
