// Engine benchmark, in process: scoring a lead versus merely parsing the same lead from its
// protobuf bytes (the baseline), on the reference workload in bench/workload/ (30 fit rules,
// 15 engagement rules; leads with 50 events and about 20 attributes). Prints both rates and
// their ratio. Usage: accord-bench-engine [--benchmark_* flags] [WORKLOAD.yaml]
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "cli/yaml_documents.h"
#include "google/protobuf/util/time_util.h"

#include "scoring/engine.h"

namespace {

namespace sv1 = accord::scoring::v1;
using google::protobuf::util::TimeUtil;

const absl::Time kAsOf = absl::FromUnixSeconds(1800000000);
std::shared_ptr<const accord::scoring::CompiledSet> g_set;
std::vector<sv1::Lead> g_leads;
std::vector<std::string> g_bytes;

sv1::Lead MakeLead(std::mt19937_64& rng, int i) {
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
  for (int e = 0; e < 50; ++e) {
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

void BM_ScoreLead(benchmark::State& state) {
  accord::scoring::Evaluation evaluation{g_set.get(), 0, -1};
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        accord::scoring::Score(evaluation, g_leads[i++ % g_leads.size()], kAsOf));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ScoreLead);

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
  auto docs = accord::cli::ParseDefinitions(text.str(), path);
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
  }
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  double parse = reporter.rates_["BM_ParseLead"];
  double score = reporter.rates_["BM_ScoreLead"];
  if (parse > 0 && score > 0) {
    std::printf(
        "\nleads/s: parse %.0f, score %.0f; score/parse throughput ratio %.2f "
        "(>= 1 means evaluating costs no more than parsing); lead size %zu bytes\n",
        parse, score, score / parse, g_bytes[0].size());
  }
  return 0;
}
