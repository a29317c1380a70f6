// Sales' verdicts on a store (issue 18): how fast batches are recorded, and how long the quality
// report over the stored verdicts takes. Baselines in the same run: batches of 1 beside batches
// of 100 (alternating, per repetition), and listing every verdict and counting in memory beside
// the report from the store's counters (the report's path).
//
//   accord-bench-verdicts --store=sqlite:/tmp/v.db|postgres:<dsn> [--verdicts=20000]
//                         [--reps=3] [--report_verdicts=1000000]
//
// Prints one JSON line per measurement and a summary.
#include <malloc.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "google/protobuf/util/time_util.h"

#include "registry/feedback/quality_report.h"
#include "registry/storage/postgres_definition_store.h"
#include "registry/storage/sqlite_definition_store.h"

namespace {

using accord::registry::VerdictStore;
using accord::registry::records::StoredVerdict;
namespace feedback = accord::registry::feedback;

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

// A verdict as a sales tool would record it, with a scored part of typical size.
StoredVerdict MakeVerdict(const std::string& ns, int64_t n, int64_t micros, std::mt19937& rng) {
  static const char* kOutcomes[] = {"ACCEPTED", "REJECTED", "RECYCLED", "WON"};
  static const char* kLevels[] = {"MQL", "SQL", "LEAD"};
  static const char* kGrades[] = {"A1", "A2", "B1", "C3"};
  static const char* kRules[] = {"title-director", "size-500", "industry-software",
                                 "webinar",        "pricing",  "download"};
  StoredVerdict v;
  v.set_namespace_id(ns);
  v.set_verdict_id(absl::StrCat("v-", n));
  v.set_lead_id(absl::StrCat("lead-", n / 2));  // two verdicts per lead
  const char* outcome = kOutcomes[rng() % 4];
  v.set_outcome(outcome);
  if (absl::StrContains(outcome, "RE")) {
    v.set_reason_code(rng() % 2 ? "bad-fit" : "no-budget");
  }
  v.set_actor("sales-tool");
  *v.mutable_recorded_at() = google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(micros);
  *v.mutable_handed_off_at() = v.recorded_at();
  v.add_revisions("namespaces/default/definitions/b2b-lead-score/revisions/3");
  v.set_level(kLevels[rng() % 3]);
  v.set_grade(kGrades[rng() % 4]);
  v.set_persona(rng() % 2 ? "it-director" : "cfo");
  for (const char* rule : kRules) {
    if (rng() % 2) {
      v.add_rules_fired(rule);
    }
  }
  v.add_content_keys(rng() % 2 ? "webinar_attended:asset=roi-guide" : "download:asset=pricing");
  return v;
}

// Records `count` verdicts of namespace `ns` in batches of `batch`: verdicts per second.
double Record(VerdictStore& store, const std::string& ns, int64_t count, int batch, int64_t& next,
              std::mt19937& rng) {
  const auto start = std::chrono::steady_clock::now();
  for (int64_t done = 0; done < count; done += batch) {
    std::vector<StoredVerdict> verdicts;
    for (int i = 0; i < batch; ++i, ++next) {
      verdicts.push_back(MakeVerdict(ns, next, 1'700'000'000'000'000 + next, rng));
    }
    if (auto recorded = store.RecordVerdicts(verdicts); !recorded.ok()) {
      std::fprintf(stderr, "record: %s\n", recorded.status().ToString().c_str());
      std::exit(1);
    }
  }
  return static_cast<double>(count) / Seconds(start);
}

}  // namespace

int main(int argc, char** argv) {
  std::string store_arg;
  int64_t verdicts = 20000;
  int reps = 3;
  int64_t report_verdicts = 1000000;
  for (int i = 1; i < argc; ++i) {
    absl::string_view a = argv[i];
    if (absl::ConsumePrefix(&a, "--store=")) {
      store_arg = std::string(a);
    } else if (absl::ConsumePrefix(&a, "--verdicts=")) {
      (void)absl::SimpleAtoi(a, &verdicts);
    } else if (absl::ConsumePrefix(&a, "--reps=")) {
      (void)absl::SimpleAtoi(a, &reps);
    } else if (absl::ConsumePrefix(&a, "--report_verdicts=")) {
      (void)absl::SimpleAtoi(a, &report_verdicts);
    }
  }
  std::unique_ptr<VerdictStore> store;
  std::string kind;
  if (absl::string_view s = store_arg; absl::ConsumePrefix(&s, "sqlite:")) {
    kind = "sqlite";
    for (const char* suffix : {"", "-wal", "-shm"}) {
      std::filesystem::remove(std::string(s) + suffix);
    }
    auto opened = accord::registry::SqliteDefinitionStore::Open(std::string(s));
    if (!opened.ok()) {
      std::fprintf(stderr, "%s\n", opened.status().ToString().c_str());
      return 1;
    }
    store = std::move(*opened);
  } else if (absl::ConsumePrefix(&s, "postgres:")) {
    kind = "postgres";
    accord::registry::PostgresStoreOptions options;
    options.dsn = std::string(s);
    auto opened = accord::registry::PostgresDefinitionStore::Open(options);
    if (!opened.ok()) {
      std::fprintf(stderr, "%s\n", opened.status().ToString().c_str());
      return 1;
    }
    store = std::move(*opened);
  } else {
    std::fprintf(stderr, "usage: %s --store=sqlite:PATH|postgres:DSN\n", argv[0]);
    return 2;
  }
  std::mt19937 rng(7);
  int64_t next = 0;
  // 1. Recording: batches of 100 against batches of 1, alternating.
  std::vector<double> ratios;
  for (int rep = 0; rep < reps; ++rep) {
    const double single = Record(*store, "single", verdicts / 20, 1, next, rng);
    const double batched = Record(*store, "batched", verdicts, 100, next, rng);
    ratios.push_back(batched / single);
    std::printf("{\"store\":\"%s\",\"rep\":%d,\"batch1_per_s\":%.0f,\"batch100_per_s\":%.0f}\n",
                kind.c_str(), rep, single, batched);
  }
  // 2. The report over `report_verdicts` stored verdicts, over every day: from the store's
  // counters (the report's path), against listing them all and counting in memory,
  // alternating; both must agree.
  Record(*store, "report", report_verdicts, 1000, next, rng);
  for (int rep = 0; rep < reps; ++rep) {
    auto start = std::chrono::steady_clock::now();
    auto counted = store->CountVerdicts("report", absl::InfinitePast(), absl::InfiniteFuture());
    const feedback::QualityReport report = feedback::ReportFromCounts(*counted);
    const double counters_s = Seconds(start);
    start = std::chrono::steady_clock::now();
    auto listed = store->ListVerdicts("report", absl::InfinitePast(), absl::InfiniteFuture());
    std::vector<feedback::Verdict> input;
    input.reserve(listed->size());
    for (const StoredVerdict& v : *listed) {
      input.push_back(accord::registry::ReportVerdict(v));
    }
    const feedback::QualityReport in_memory = feedback::BuildQualityReport(input);
    const double memory_s = Seconds(start);
    const bool same = report.overall.total == in_memory.overall.total &&
                      report.overall.accepted == in_memory.overall.accepted &&
                      report.by_rule.size() == in_memory.by_rule.size();
    std::printf(
        "{\"store\":\"%s\",\"rep\":%d,\"verdicts\":%zu,\"leads\":%lld,"
        "\"report_from_counters_s\":%.4f,\"list_and_count_s\":%.3f,\"same\":%s}\n",
        kind.c_str(), rep, listed->size(), static_cast<long long>(report.overall.total), counters_s,
        memory_s, same ? "true" : "false");
    // The verdicts just listed are freed at the end of this repetition, and glibc consolidates
    // them at the next large allocation, which would bill the next repetition's report from the
    // counters a quarter of a second per 300,000; done here, untimed.
    input.clear();
    input.shrink_to_fit();
    listed->clear();
    listed->shrink_to_fit();
    malloc_trim(0);
  }
  return 0;
}
