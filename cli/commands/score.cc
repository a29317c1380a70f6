#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "cli/commands/commands.h"
#include "cli/lead_files.h"
#include "cli/print.h"
#include "google/protobuf/util/time_util.h"

namespace accord::cli {
namespace {

// `score`: a file of leads through StreamScoreLeads, a line per lead.
int ScoreFile(const ScoringTarget& target, const ScoreOptions& o) {
  absl::StatusOr<std::vector<sv1::Lead>> leads = ReadLeads(o.file);
  if (!leads.ok()) {
    std::cerr << leads.status().message() << "\n";
    return 1;
  }
  sv1::StreamScoreLeadsRequest first;
  if (absl::Status s = FillRequest(o, first.mutable_selector(), first.mutable_as_of()); !s.ok()) {
    return Fail(s);
  }
  // Only JSON lines print the reasons: CSV and the table ask for the BASIC view, which the
  // server scores in about half the CPU and sends in a tenth of the bytes.
  first.set_view(o.output == "jsonl" ? sv1::FULL : sv1::BASIC);
  auto stub = ScoringStub(target);
  grpc::ClientContext ctx;
  AddAuth(ctx, target);
  auto stream = stub->StreamScoreLeads(&ctx);
  std::thread writer([&] {
    for (size_t i = 0; i < leads->size(); i += kChunk) {
      sv1::StreamScoreLeadsRequest r = i == 0 ? first : sv1::StreamScoreLeadsRequest();
      *r.mutable_as_of() = first.as_of();
      r.set_view(first.view());
      for (size_t k = i; k < std::min(leads->size(), i + kChunk); ++k) {
        *r.add_leads() = (*leads)[k];
      }
      if (!stream->Write(r)) {
        break;
      }
    }
    stream->WritesDone();
  });
  const bool progress = isatty(STDERR_FILENO) && leads->size() > 2000;
  std::map<std::string, int> by_level, by_grade;
  sv1::StreamScoreLeadsResponse response;
  size_t done = 0;
  if (o.output == "csv") {
    std::cout
        << "id,level,grade,fit,engagement,total,persona,journey_stage,disqualification_reason\n";
  } else if (o.output == "table") {
    std::printf("%-12s %-13s %-5s %7s %10s %7s  %-16s %s\n", "LEAD", "LEVEL", "GRADE", "FIT",
                "ENGAGEMENT", "TOTAL", "PERSONA", "STAGE");
  }
  while (stream->Read(&response)) {
    for (const sv1::LeadScore& s : response.scores()) {
      ++done;
      ++by_level[s.level().empty() ? "(none)" : s.level()];
      ++by_grade[s.grade().empty() ? "(none)" : s.grade()];
      if (o.output == "jsonl") {
        std::string line;
        (void)google::protobuf::util::MessageToJsonString(s, &line);
        std::cout << line << "\n";
      } else if (o.output == "csv") {
        std::cout << s.lead_id() << "," << s.level() << "," << s.grade() << "," << s.fit() << ","
                  << s.engagement() << "," << s.total() << "," << ShortName(s.persona().persona())
                  << "," << s.journey_stage() << ",\"" << s.disqualification_reason() << "\"\n";
      } else if (leads->size() <= 60) {
        std::printf("%-12s %-13s %-5s %7.1f %10.1f %7.1f  %-16s %s\n", s.lead_id().c_str(),
                    s.level().c_str(), s.grade().c_str(), s.fit(), s.engagement(), s.total(),
                    ShortName(s.persona().persona()).c_str(), s.journey_stage().c_str());
      }
    }
    if (progress) {
      std::fprintf(stderr, "\rscored %zu / %zu leads", done, leads->size());
    }
  }
  writer.join();
  grpc::Status status = stream->Finish();
  if (progress) {
    std::fprintf(stderr, "\n");
  }
  if (!status.ok()) {
    return Fail(FromGrpcStatus(status));
  }
  if (o.output == "table") {
    std::printf("\n%zu leads scored. By level:", done);
    for (const auto& [level, n] : by_level) {
      std::printf("  %s %d", level.c_str(), n);
    }
    std::printf("\nBy grade:");
    for (const auto& [grade, n] : by_grade) {
      std::printf("  %s %d", grade.c_str(), n);
    }
    std::printf("\n");
  }
  return 0;
}

// `explain`: one lead, every reason, for a sales rep.
int Explain(const ScoringTarget& target, const ScoreOptions& o) {
  std::ifstream in(o.file);
  if (!in) {
    std::cerr << o.file << ": cannot be read\n";
    return 1;
  }
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  sv1::ScoreLeadRequest request;
  google::protobuf::util::JsonParseOptions options;
  auto parsed = google::protobuf::util::JsonStringToMessage(text, request.mutable_lead(), options);
  if (!parsed.ok()) {
    std::cerr << o.file << ": " << parsed.message() << "\n";
    return 1;
  }
  if (absl::Status s = FillRequest(o, request.mutable_selector(), request.mutable_as_of());
      !s.ok()) {
    return Fail(s);
  }
  auto stub = ScoringStub(target);
  grpc::ClientContext ctx;
  AddAuth(ctx, target);
  ctx.set_deadline(std::chrono::system_clock::now() +
                   std::chrono::milliseconds(static_cast<int64_t>(target.timeout_seconds * 1000)));
  sv1::LeadScore s;
  grpc::Status status = stub->ScoreLead(&ctx, request, &s);
  if (!status.ok()) {
    return Fail(FromGrpcStatus(status));
  }
  std::printf("Lead %s, as of %s\n", s.lead_id().c_str(),
              google::protobuf::util::TimeUtil::ToString(s.as_of()).c_str());
  for (const auto& d : s.definitions()) {
    std::printf("  using %s revision %lld\n", d.name().c_str(),
                static_cast<long long>(d.revision()));
  }
  std::printf("\n  Level %s   Grade %s   Fit %.1f + Engagement %.1f = %.1f\n",
              s.level().empty() ? "(none)" : s.level().c_str(),
              s.grade().empty() ? "-" : s.grade().c_str(), s.fit(), s.engagement(), s.total());
  if (s.disqualified()) {
    std::printf("  DISQUALIFIED: %s\n", s.disqualification_reason().c_str());
  }
  if (s.has_persona()) {
    std::printf("  Persona: %s (match %.0f%%)%s\n", ShortName(s.persona().persona()).c_str(),
                s.persona().match() * 100, s.persona().exclude() ? " - a negative persona" : "");
  }
  if (!s.journey_stage().empty()) {
    std::printf("  Journey stage: %s\n", s.journey_stage().c_str());
  }
  std::printf("\n  Why:\n");
  if (s.no_rule_matched()) {
    std::printf("    no rule of the model matched this lead\n");
  }
  for (const sv1::Reason& r : s.reasons()) {
    PrintReason(r);
  }
  // A misspelled attribute shows twice: what the rules read and did not find, and what the lead
  // sent that nothing reads.
  if (s.missing_attributes_size() > 0) {
    std::printf("\n  Attributes the model reads that this lead lacks:\n    %s\n",
                absl::StrJoin(s.missing_attributes(), ", ").c_str());
  }
  if (s.unread_attributes_size() > 0) {
    std::printf("  Attributes this lead sent that no published rule reads%s:\n    %s\n",
                s.unread_attributes_size() >= 20 ? " (the first 20)" : "",
                absl::StrJoin(s.unread_attributes(), ", ").c_str());
  }
  return 0;
}

// Scores the file with the published definitions and with `proposed` in its place, and prints
// counts per level and grade before/after, the leads that change level, and how many leads of
// the file reach the level of each volume commitment of the SLAs on the model, before/after.
int Preview(const ScoringTarget& target, const ScoreOptions& o,
            const registry::v1::Definition& proposed) {
  absl::StatusOr<std::vector<sv1::Lead>> leads = ReadLeads(o.file);
  if (!leads.ok()) {
    std::cerr << leads.status().message() << "\n";
    return 1;
  }
  sv1::PreviewDefinitionRequest request;
  if (absl::Status s = FillRequest(o, request.mutable_selector(), request.mutable_as_of());
      !s.ok()) {
    return Fail(s);
  }
  *request.mutable_proposed() = proposed;
  for (auto& lead : *leads) {
    *request.add_leads() = std::move(lead);
  }
  auto stub = ScoringStub(target);
  grpc::ClientContext ctx;
  AddAuth(ctx, target);
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  sv1::PreviewDefinitionResponse r;
  grpc::Status status = stub->PreviewDefinition(&ctx, request, &r);
  if (!status.ok()) {
    return Fail(FromGrpcStatus(status));
  }
  if (o.output == "json" || o.output == "jsonl") {
    std::string json;
    (void)google::protobuf::util::MessageToJsonString(r, &json);
    std::cout << json << "\n";
    return 0;
  }
  std::printf("Preview of %s on %d leads\n", proposed.name().c_str(), request.leads_size());
  auto table = [](const char* title, const auto& before, const auto& after) {
    std::map<std::string, std::pair<int64_t, int64_t>> rows;
    for (const auto& [k, v] : before) {
      rows[k].first = v;
    }
    for (const auto& [k, v] : after) {
      rows[k].second = v;
    }
    std::printf("\n  %-14s %8s %8s %8s\n", title, "before", "after", "change");
    for (const auto& [k, v] : rows) {
      std::printf("  %-14s %8lld %8lld %+8lld\n", k.c_str(), static_cast<long long>(v.first),
                  static_cast<long long>(v.second), static_cast<long long>(v.second - v.first));
    }
  };
  table("LEVEL", r.levels_before(), r.levels_after());
  table("GRADE", r.grades_before(), r.grades_after());
  std::printf("\n  %lld leads change level", static_cast<long long>(r.changed_count()));
  std::printf(r.changed_size() > 0 ? ":\n" : "\n");
  for (int i = 0; i < r.changed_size() && i < 20; ++i) {
    const auto& c = r.changed(i);
    std::printf("    %-14s %s -> %s\n", c.lead_id().c_str(),
                c.before().empty() ? "(none)" : c.before().c_str(),
                c.after().empty() ? "(none)" : c.after().c_str());
  }
  for (const sv1::VolumeCheck& v : r.volume_checks()) {
    std::printf(
        "\n  SLA %s, %s: %s delivers at least %lld %s per %s; leads of this file at %s or "
        "higher: before %lld, after %lld\n",
        ShortName(v.sla()).c_str(), v.commitment().c_str(), v.team().c_str(),
        static_cast<long long>(v.min_count()), v.level().c_str(),
        absl::AsciiStrToLower(registry::v1::Period_Name(v.period())).c_str(), v.level().c_str(),
        static_cast<long long>(v.reached_before()), static_cast<long long>(v.reached_after()));
  }
  return 0;
}

}  // namespace

void AddScoreCommands(CLI::App& app, const Globals& g, int& exit_code) {
  struct Args {
    std::string file, model, as_of, name, revision = "latest";
  };
  auto a = std::make_shared<Args>();
  auto options = [a, &g](const std::string& output) {
    return ScoreOptions{a->file, a->model, g.ns, a->as_of, output, ""};
  };
  auto* score = app.add_subcommand("score", "score a file of leads (.jsonl or .csv)");
  auto* explain = app.add_subcommand("explain", "explain one lead's score (a JSON file)");
  for (auto* sub : {score, explain}) {
    sub->add_option("-f,--file", a->file, "leads")->required();
    sub->add_option("--model", a->model, "qualification model (default: the only one)");
    sub->add_option("--as-of", a->as_of, "score as of this RFC 3339 time (default: now)");
  }
  score->callback([&g, &exit_code, options] {
    exit_code = ScoreFile(ScoringTargetOf(g),
                          options(g.output == "yaml" || g.output == "json" ? "jsonl" : g.output));
  });
  explain->callback([&g, &exit_code, options] {
    exit_code = Explain(ScoringTargetOf(g),
                        options(g.output == "yaml" || g.output == "json" ? "jsonl" : g.output));
  });

  auto* preview = app.add_subcommand("preview", "impact of a proposed revision on a file of leads");
  preview->add_option("name", a->name, "the definition")->required();
  preview->add_option("-f,--file", a->file, "leads (.jsonl or .csv)")->required();
  preview->add_option("--revision", a->revision, "revision to preview (default: latest)");
  preview->add_option("--model", a->model, "qualification model (default: the only one)");
  preview->add_option("--as-of", a->as_of, "score as of this RFC 3339 time (default: now)");
  preview->callback([a, &g, &exit_code, options] {
    RegistryClient c(g);
    v1::GetRevisionRequest r;
    r.set_name(absl::StrCat(c.Name(a->name), "/revisions/", a->revision));
    auto rev = c.Call<v1::GetRevisionRequest, v1::Revision>(&v1::Registry::Stub::GetRevision, r);
    if (!rev.ok()) {
      exit_code = Fail(rev.status());
      return;
    }
    v1::Definition proposed = rev->snapshot();
    proposed.set_name(c.Name(a->name));
    exit_code = Preview(ScoringTargetOf(g), options(g.output), proposed);
  });
}

}  // namespace accord::cli
