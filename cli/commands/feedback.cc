#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "cli/commands/commands.h"
#include "cli/print.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"

// accordctl feedback: sales' verdicts (record, list, erase) and the quality report.
namespace accord::cli {
namespace {

using google::protobuf::util::TimeUtil;

// Verdicts per RecordVerdicts call (the server's limit).
constexpr int kVerdictBatch = 1000;

// An RFC 3339 time, or a date (YYYY-MM-DD, midnight UTC), into `out`; "" leaves it unset.
absl::Status ParseWhen(const std::string& flag, const std::string& text,
                       google::protobuf::Timestamp* out) {
  if (text.empty()) {
    return absl::OkStatus();
  }
  absl::Time t;
  std::string error;
  if (absl::ParseTime(absl::RFC3339_full, text, &t, &error) ||
      absl::ParseTime("%Y-%m-%d", text, absl::UTCTimeZone(), &t, &error)) {
    *out = TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(t));
    return absl::OkStatus();
  }
  return InvalidField(flag, absl::StrCat("'", text, "' is not a date (2026-11-01) or RFC 3339"));
}

// `feedback record`: a JSON-lines file of VerdictInput through Scoring.RecordVerdicts, in
// batches of 1000; each batch is all or none, and a retried file records nothing twice.
int Record(const Globals& g, const std::string& file, const std::string& model) {
  std::ifstream in(file);
  if (!in) {
    std::cerr << "cannot read " << file << "\n";
    return 1;
  }
  std::vector<sv1::VerdictInput> verdicts;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (absl::StripAsciiWhitespace(line).empty()) {
      continue;
    }
    sv1::VerdictInput& v = verdicts.emplace_back();
    if (auto s = google::protobuf::util::JsonStringToMessage(line, &v); !s.ok()) {
      std::cerr << file << ":" << number << ": not a verdict: " << s.message() << "\n";
      return 1;
    }
  }
  const ScoringTarget target = ScoringTargetOf(g);
  auto stub = ScoringStub(target);
  int64_t recorded = 0;
  int64_t retried = 0;
  for (size_t first = 0; first < verdicts.size(); first += kVerdictBatch) {
    sv1::RecordVerdictsRequest request;
    request.mutable_selector()->set_namespace_(g.ns);
    request.mutable_selector()->set_model(model);
    for (size_t i = first; i < verdicts.size() && i < first + kVerdictBatch; ++i) {
      *request.add_verdicts() = verdicts[i];
    }
    sv1::RecordVerdictsResponse response;
    grpc::Status status;
    // A pinned revision the scoring service has not read yet: UNAVAILABLE while it reads it.
    for (int attempt = 0; attempt < 20; ++attempt) {
      grpc::ClientContext ctx;
      Prepare(ctx, target);
      status = stub->RecordVerdicts(&ctx, request, &response);
      if (status.error_code() != grpc::StatusCode::UNAVAILABLE) {
        break;
      }
      absl::SleepFor(absl::Milliseconds(100 * (attempt + 1)));
    }
    if (!status.ok()) {
      std::cerr << "verdicts " << first + 1 << " to " << first + request.verdicts_size()
                << " (line numbers among the verdicts; verdicts[i] counts from the batch's "
                   "first) were not recorded:\n";
      return Fail(FromGrpcStatus(status));
    }
    for (size_t i = 0; i < static_cast<size_t>(response.verdicts_size()); ++i) {
      (response.recorded(static_cast<int>(i)) ? recorded : retried) += 1;
      if (g.output == "jsonl" || g.output == "json") {
        std::cout << JsonLine(response.verdicts(static_cast<int>(i))) << "\n";
      }
    }
  }
  if (g.output == "table") {
    std::cout << recorded << " verdicts recorded, " << retried << " already recorded (retries)\n";
  }
  return 0;
}

std::string Percent(const v1::AcceptanceRate& r) {
  return r.total() == 0 ? "-"
                        : absl::StrFormat("%5.1f%% [%4.1f-%5.1f]", 100 * r.rate(), 100 * r.low(),
                                          100 * r.high());
}

void PrintRates(absl::string_view title,
                const google::protobuf::RepeatedPtrField<v1::AcceptanceRate>& rates) {
  if (rates.empty()) {
    return;
  }
  std::cout << "\n" << title << "\n";
  for (const v1::AcceptanceRate& r : rates) {
    // Personas by their short names.
    std::cout << absl::StrFormat("  %-40s %5d leads  accepted %s\n",
                                 r.key().empty()                            ? "(none)"
                                 : absl::StartsWith(r.key(), "namespaces/") ? ShortName(r.key())
                                                                            : r.key(),
                                 r.total(), Percent(r));
  }
}

void PrintReport(const v1::QualityReport& report) {
  std::cout << "leads with a verdict from "
            << absl::FormatTime("%Y-%m-%d", absl::FromUnixSeconds(report.start_time().seconds()),
                                absl::UTCTimeZone())
            << " to "
            << absl::FormatTime("%Y-%m-%d", absl::FromUnixSeconds(report.end_time().seconds()),
                                absl::UTCTimeZone())
            << " (each counted by its latest verdict; accepted with a 95 % Wilson interval)\n";
  std::cout << absl::StrFormat("  %-40s %5d leads  accepted %s\n", "all", report.overall().total(),
                               Percent(report.overall()));
  PrintRates("by level", report.by_level());
  PrintRates("by grade", report.by_grade());
  PrintRates("by persona", report.by_persona());
  if (!report.by_rule().empty()) {
    std::cout << "\nby rule (accepted when it fired / when it did not, lift)\n";
    for (const v1::RuleQuality& r : report.by_rule()) {
      std::cout << absl::StrFormat(
          "  %-40s %5d leads  %s / %s  lift %s\n", r.rule(), r.fired().total(), Percent(r.fired()),
          Percent(r.not_fired()),
          r.has_lift() ? absl::StrFormat("%.2f", r.lift()) : std::string("-"));
    }
  }
  PrintRates("by content", report.by_content_key());
  if (!report.sla_quality().empty()) {
    std::cout << "\nSLA quality commitments, from these verdicts\n";
    for (const v1::SlaQuality& q : report.sla_quality()) {
      std::cout << absl::StrFormat(
          "  %-40s %5d leads  accepted %s  target %.0f%%  %s\n",
          absl::StrCat(q.commitment(), " (", q.team(), ", ", q.level(), "+)"), q.accepted().total(),
          Percent(q.accepted()), 100 * q.target(), q.met() ? "met" : "NOT MET");
    }
  }
  if (!report.not_accepted_by_reason().empty()) {
    std::cout << "\nwhy sales did not accept (leads)\n";
    for (const v1::ReasonCount& c : report.not_accepted_by_reason()) {
      std::cout << absl::StrFormat("  %-40s %5d\n",
                                   c.reason_code().empty() ? "(none)" : c.reason_code(), c.leads());
    }
  }
}

}  // namespace

void AddFeedbackCommands(CLI::App& app, const Globals& g, int& exit_code) {
  struct Args {
    std::string file;
    std::string model;
    std::string since;
    std::string until;
    std::string lead;
    std::string request_id;
  };
  auto a = std::make_shared<Args>();
  auto* feedback = app.add_subcommand(
      "feedback", "sales' verdicts on handed-over leads, and the quality report");
  feedback->require_subcommand(1);

  auto* record = feedback->add_subcommand(
      "record", "record verdicts from a JSON-lines file (one VerdictInput per line)");
  record->add_option("-f,--file", a->file, "verdicts (.jsonl)")->required();
  record->add_option("--model", a->model, "the qualification model (default: the only one)");
  record->callback([a, &g, &exit_code] { exit_code = Record(g, a->file, a->model); });

  auto* report = feedback->add_subcommand("report",
                                          "acceptance by level, grade, persona, rule, "
                                          "content and reason");
  report->add_option("--since", a->since, "first day (default: 90 days before --until)");
  report->add_option("--until", a->until, "end, exclusive (default: now)");
  report->callback([a, &g, &exit_code] {
    RegistryClient c(g);
    v1::GetQualityReportRequest r;
    r.set_parent(absl::StrCat("namespaces/", g.ns));
    if (absl::Status s = ParseWhen("--since", a->since, r.mutable_start_time()); !s.ok()) {
      exit_code = Fail(s);
      return;
    }
    if (absl::Status s = ParseWhen("--until", a->until, r.mutable_end_time()); !s.ok()) {
      exit_code = Fail(s);
      return;
    }
    exit_code = ShowList(g,
                         c.Call<v1::GetQualityReportRequest, v1::QualityReport>(
                             &v1::Registry::Stub::GetQualityReport, r),
                         PrintReport);
  });

  auto* list = feedback->add_subcommand("list", "verdicts recorded, oldest first");
  list->add_option("--lead", a->lead, "one lead's history");
  list->add_option("--since", a->since, "from (default: 30 days before --until)");
  list->add_option("--until", a->until, "end, exclusive (default: now)");
  list->callback([a, &g, &exit_code] {
    RegistryClient c(g);
    v1::ListVerdictsRequest r;
    r.set_parent(absl::StrCat("namespaces/", g.ns));
    r.set_lead_id(a->lead);
    r.set_page_size(1000);
    for (const auto& [flag, text, out] :
         {std::make_tuple("--since", a->since, r.mutable_start_time()),
          std::make_tuple("--until", a->until, r.mutable_end_time())}) {
      if (absl::Status s = ParseWhen(flag, text, out); !s.ok()) {
        exit_code = Fail(s);
        return;
      }
    }
    exit_code = ShowList(g,
                         c.Call<v1::ListVerdictsRequest, v1::ListVerdictsResponse>(
                             &v1::Registry::Stub::ListVerdicts, r),
                         [](const v1::ListVerdictsResponse& page) {
                           for (const v1::Verdict& v : page.verdicts()) {
                             std::cout << absl::StrFormat(
                                 "%-20s %-16s %-12s %-14s %-6s %-4s %s\n",
                                 TimeUtil::ToString(v.record_time()).substr(0, 19), v.lead_id(),
                                 v1::Verdict::Outcome_Name(v.outcome()),
                                 v.reason_code().empty() ? "-" : v.reason_code(),
                                 v.level().empty() ? "-" : v.level(), v.grade(), v.actor());
                           }
                           if (!page.next_page_token().empty()) {
                             std::cout << "(more: narrow --since/--until)\n";
                           }
                         });
  });

  auto* erase = feedback->add_subcommand(
      "erase", "erase every verdict of a lead id (a GDPR request; admin, audited)");
  erase->add_option("lead", a->lead)->required();
  erase->add_option("--request-id", a->request_id, "idempotency key recorded in the audit log");
  erase->callback([a, &g, &exit_code] {
    RegistryClient c(g);
    v1::EraseLeadVerdictsRequest r;
    r.set_parent(absl::StrCat("namespaces/", g.ns));
    r.set_lead_id(a->lead);
    r.set_request_id(a->request_id);
    exit_code = ShowList(g,
                         c.Call<v1::EraseLeadVerdictsRequest, v1::EraseLeadVerdictsResponse>(
                             &v1::Registry::Stub::EraseLeadVerdicts, r),
                         [](const v1::EraseLeadVerdictsResponse& done) {
                           std::cout << done.erased() << " verdicts erased\n";
                         });
  });
}

}  // namespace accord::cli
