// Engine benchmark, in process: scoring a lead versus merely parsing the same lead from its
// protobuf bytes (the baseline), on the reference workload in bench/workload/ (30 fit rules,
// 15 engagement rules; leads with 50 events and about 20 attributes). Prints both rates and
// their ratio. The BM_Typical* benchmarks take a typical lead (10 events) through the stages
// of one ScoreLead call as the server runs them (parse into an arena, score into an arena,
// serialize the result), to show where a call's time goes.
// Usage: accord-bench-engine [--benchmark_* flags] [WORKLOAD.yaml]
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "google/protobuf/util/time_util.h"

#include "definitions/loader.h"
#include "scoring/engine.h"
#include "scoring/wire/lead_decoder.h"

namespace {

namespace sv1 = accord::scoring::v1;
using google::protobuf::util::TimeUtil;

const absl::Time kAsOf = absl::FromUnixSeconds(1800000000);
std::shared_ptr<const accord::scoring::CompiledSet> g_set;
std::vector<sv1::Lead> g_leads;
std::vector<std::string> g_bytes;

std::vector<std::string> g_request_bytes;  // ScoreLeadRequest with the lead of g_bytes
std::vector<std::string> g_typical_bytes;  // ScoreLeadRequest with a 10-event lead
std::vector<sv1::Lead> g_typical;
std::vector<std::string> g_batch_bytes;  // BatchScoreLeadsRequest with 100 typical leads

sv1::Lead MakeLead(std::mt19937_64& rng, int i, int events = 50) {
  static const char* kIndustries[] = {"software", "Healthcare", "retail", "media", "finance3"};
  static const char* kTitles[] = {"Director of IT 1", "Head of Sales 2", "VP Ops 0", "Engineer"};
  sv1::Lead lead;
  lead.set_id(absl::StrCat("lead-", i));
  auto& attrs = *lead.mutable_attributes()->mutable_fields();
  auto& company = *attrs["company"].mutable_struct_value()->mutable_fields();
  company["employees"].set_number_value(static_cast<double>(rng() % 5000));
  company["industry"].set_string_value(kIndustries[rng() % 5]);
  company["country"].set_string_value(rng() % 2 ? "US" : "DE");
  company["revenue"].set_number_value(static_cast<double>(rng() % 3000000));
  company["name"].set_string_value(absl::StrCat("Company ", i));
  company["website"].set_string_value(absl::StrCat("company", i, ".com"));
  company["public"].set_bool_value(rng() % 2 == 0);
  for (int k = 0; k < 5; ++k) {
    company[absl::StrCat("extra_", k)].set_string_value(absl::StrCat("value ", rng() % 100));
  }
  auto& contact = *attrs["contact"].mutable_struct_value()->mutable_fields();
  contact["title"].set_string_value(kTitles[rng() % 4]);
  contact["email"].set_string_value(absl::StrCat("person", i, "@company", i, ".com"));
  contact["first_name"].set_string_value("Ann");
  contact["last_name"].set_string_value("Smith");
  attrs["source"].set_string_value("webinar");
  attrs["score_hint"].set_number_value(3);
  for (int e = 0; e < events; ++e) {
    sv1::Event* ev = lead.add_events();
    ev->set_type(absl::StrCat("event-", rng() % 12));
    *ev->mutable_time() = TimeUtil::SecondsToTimestamp(absl::ToUnixSeconds(kAsOf) -
                                                       static_cast<int64_t>(rng() % (200 * 86400)));
    (*ev->mutable_properties()->mutable_fields())["path"].set_string_value(
        rng() % 3 ? "/pricing/enterprise" : "/blog");
  }
  return lead;
}

void BM_ParseLead(benchmark::State& state) {
  size_t i = 0;
  for (auto _ : state) {
    sv1::Lead lead;
    benchmark::DoNotOptimize(lead.ParseFromString(g_bytes[i++ % g_bytes.size()]));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ParseLead);

// Decodes a ScoreLeadRequest into `leads` as the server does; false (the benchmark failed) if
// the bytes do not decode.
bool Decode(benchmark::State& state, const std::string& bytes, accord::scoring::LeadSet& leads) {
  leads.Clear();
  accord::scoring::LeadRequest request;
  if (!DecodeLeadRequest(bytes, true, "lead", leads, &request).ok()) {
    state.SkipWithError("decode failed");
    return false;
  }
  return true;
}

// Scoring as the server does it: the lead's bytes (in a ScoreLeadRequest) decoded into a
// reused LeadSet, then evaluated, every reason included.
void BM_ScoreLead(benchmark::State& state) {
  accord::scoring::Evaluation evaluation{g_set.get(), 0, -1};
  accord::scoring::LeadSet leads;
  size_t i = 0;
  for (auto _ : state) {
    if (!Decode(state, g_request_bytes[i++ % g_request_bytes.size()], leads)) {
      break;
    }
    sv1::LeadScore out;
    accord::scoring::ScoreInto(evaluation, leads, 0, kAsOf, &out);
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ScoreLead);

google::protobuf::ArenaOptions ArenaWithBlock() {
  google::protobuf::ArenaOptions options;
  options.start_block_size = 16 << 10;
  options.max_block_size = 64 << 10;
  return options;
}

void BM_TypicalParseArena(benchmark::State& state) {
  size_t i = 0;
  for (auto _ : state) {
    google::protobuf::Arena arena(ArenaWithBlock());
    auto* request = google::protobuf::Arena::CreateMessage<sv1::ScoreLeadRequest>(&arena);
    benchmark::DoNotOptimize(
        request->ParseFromString(g_typical_bytes[i++ % g_typical_bytes.size()]));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TypicalParseArena);

// What the server does instead of parsing: decode the request bytes into a reused LeadSet.
void BM_TypicalDecodeWire(benchmark::State& state) {
  size_t i = 0;
  accord::scoring::LeadSet leads;
  for (auto _ : state) {
    leads.Clear();
    accord::scoring::LeadRequest request;
    benchmark::DoNotOptimize(DecodeLeadRequest(g_typical_bytes[i++ % g_typical_bytes.size()], true,
                                               "lead", leads, &request));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TypicalDecodeWire);

// The server's work for one ScoreLead call, as it runs it: decode the request bytes into a
// reused LeadSet, score with the reasons written as wire bytes, serialize the result.
void TypicalServe(benchmark::State& state, bool explain) {
  accord::scoring::Evaluation evaluation{g_set.get(), 0, -1, explain};
  accord::scoring::LeadSet leads;
  sv1::LeadScore score;
  std::string reasons;
  size_t i = 0;
  std::string bytes;
  for (auto _ : state) {
    if (!Decode(state, g_typical_bytes[i++ % g_typical_bytes.size()], leads)) {
      break;
    }
    score.Clear();
    reasons.clear();
    accord::scoring::ScoreWire(evaluation, leads, 0, kAsOf, &score, &reasons);
    bytes.clear();
    score.AppendToString(&bytes);
    bytes += reasons;
    benchmark::DoNotOptimize(bytes.data());
  }
  state.SetItemsProcessed(state.iterations());
}
void BM_TypicalServe(benchmark::State& state) { TypicalServe(state, true); }
BENCHMARK(BM_TypicalServe);
void BM_TypicalServeBasic(benchmark::State& state) { TypicalServe(state, false); }
BENCHMARK(BM_TypicalServeBasic);

// Scores lead `i` of `leads` with wire reasons and appends the result's bytes to `bytes`.
void AppendScored(const accord::scoring::Evaluation& evaluation,
                  const accord::scoring::LeadSet& leads, size_t i, sv1::LeadScore& score,
                  std::string& reasons, std::string& bytes) {
  score.Clear();
  reasons.clear();
  accord::scoring::ScoreWire(evaluation, leads, i, kAsOf, &score, &reasons);
  score.AppendToString(&bytes);
  bytes += reasons;
}

// A BatchScoreLeads call's work, in leads, with every reason: every lead decoded before any is
// scored and written (`whole`, as the server does), or each decoded and scored in turn, the
// LeadSet reused.
void TypicalBatch(benchmark::State& state, bool whole) {
  accord::scoring::Evaluation evaluation{g_set.get(), 0, -1, true};
  accord::scoring::LeadSet leads;
  sv1::LeadScore score;
  std::string reasons, bytes;
  size_t b = 0;
  for (auto _ : state) {
    bytes.clear();
    const size_t batch = b++ % g_batch_bytes.size();
    if (whole) {
      leads.Clear();
      accord::scoring::LeadRequest request;
      if (!DecodeLeadRequest(g_batch_bytes[batch], false, "leads", leads, &request).ok()) {
        state.SkipWithError("decode failed");
        return;
      }
      for (size_t i = 0; i < leads.size(); ++i) {
        AppendScored(evaluation, leads, i, score, reasons, bytes);
      }
    } else {
      for (size_t i = batch * 100; i < batch * 100 + 100; ++i) {
        if (!Decode(state, g_typical_bytes[i], leads)) {
          return;
        }
        AppendScored(evaluation, leads, 0, score, reasons, bytes);
      }
    }
    benchmark::DoNotOptimize(bytes.data());
  }
  state.SetItemsProcessed(state.iterations() * 100);
}
void BM_TypicalBatchDecodeAllFirst(benchmark::State& state) { TypicalBatch(state, true); }
BENCHMARK(BM_TypicalBatchDecodeAllFirst);
void BM_TypicalBatchLeadByLead(benchmark::State& state) { TypicalBatch(state, false); }
BENCHMARK(BM_TypicalBatchLeadByLead);

// The same through protobuf's parser and the Lead message (the serving path before LeadSet).
void BM_TypicalServeFromMessage(benchmark::State& state) {
  accord::scoring::Evaluation evaluation{g_set.get(), 0, -1};
  size_t i = 0;
  std::string bytes;
  for (auto _ : state) {
    google::protobuf::Arena arena(ArenaWithBlock());
    auto* request = google::protobuf::Arena::CreateMessage<sv1::ScoreLeadRequest>(&arena);
    if (!request->ParseFromString(g_typical_bytes[i++ % g_typical_bytes.size()])) {
      state.SkipWithError("parse failed");
      break;
    }
    auto* out = google::protobuf::Arena::CreateMessage<sv1::LeadScore>(&arena);
    accord::scoring::ScoreInto(evaluation, request->lead(), kAsOf, out);
    bytes.clear();
    out->AppendToString(&bytes);
    benchmark::DoNotOptimize(bytes.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TypicalServeFromMessage);

void BM_TypicalSerializeResult(benchmark::State& state) {
  accord::scoring::Evaluation evaluation{g_set.get(), 0, -1};
  std::vector<sv1::LeadScore> results;
  for (const sv1::Lead& lead : g_typical) {
    results.push_back(accord::scoring::Score(evaluation, lead, kAsOf));
  }
  size_t i = 0;
  std::string bytes;
  for (auto _ : state) {
    bytes.clear();
    benchmark::DoNotOptimize(results[i++ % results.size()].AppendToString(&bytes));
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["bytes"] = static_cast<double>(bytes.size());
}
BENCHMARK(BM_TypicalSerializeResult);

// Keeps each benchmark's items per second to print the ratio at the end.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      auto it = run.counters.find("items_per_second");
      if (it != run.counters.end()) {
        rates_[run.benchmark_name()] = it->second.value;
      }
    }
  }
  std::map<std::string, double> rates_;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  std::string path = argc > 1 ? argv[1] : "bench/workload/scoring-model.yaml";
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  auto docs = accord::definitions::ParseDefinitions(text.str(), path);
  if (!docs.ok() || docs->empty()) {
    std::cerr << "cannot read " << path << ": " << docs.status() << "\n";
    return 1;
  }
  std::vector<accord::scoring::PublishedDefinition> defs;
  for (const auto& d : *docs) {
    defs.push_back({d.definition.name(), 1, d.definition});
  }
  auto set = accord::scoring::Compile("default", defs);
  if (!set.ok()) {
    std::cerr << set.status() << "\n";
    return 1;
  }
  g_set = *set;
  std::mt19937_64 rng(42);
  for (int i = 0; i < 1000; ++i) {
    g_leads.push_back(MakeLead(rng, i));
    g_bytes.push_back(g_leads.back().SerializeAsString());
    sv1::ScoreLeadRequest whole;
    *whole.mutable_lead() = g_leads.back();
    g_request_bytes.push_back(whole.SerializeAsString());
    sv1::ScoreLeadRequest request;
    *request.mutable_lead() = MakeLead(rng, i, 10);
    g_typical.push_back(request.lead());
    g_typical_bytes.push_back(request.SerializeAsString());
  }
  for (size_t first = 0; first + 100 <= g_typical.size(); first += 100) {
    sv1::BatchScoreLeadsRequest batch;
    for (size_t i = first; i < first + 100; ++i) {
      *batch.add_leads() = g_typical[i];
    }
    g_batch_bytes.push_back(batch.SerializeAsString());
  }
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  double parse = reporter.rates_["BM_ParseLead"];
  double score = reporter.rates_["BM_ScoreLead"];
  if (parse > 0 && score > 0) {
    std::printf(
        "\nleads/s: parse %.0f, score %.0f; score/parse throughput ratio %.2f "
        "(>= 1: decoding and evaluating cost no more than parsing); lead size %zu bytes\n",
        parse, score, score / parse, g_bytes[0].size());
  }
  return 0;
}
