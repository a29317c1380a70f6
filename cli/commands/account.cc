#include <cstdio>
#include <iostream>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/commands/commands.h"
#include "cli/lead_files.h"
#include "cli/print.h"
#include "google/protobuf/util/time_util.h"

namespace accord::cli {
namespace {

struct ExplainOptions {
  ScoreOptions scoring;       // namespace, model or account model, as_of (the first moment)
  std::string before, after;  // JSON files: a Lead each, or an Account each (`account`)
  bool account = false;
  std::string as_of_after;                          // RFC 3339; "" = the first moment
  int64_t revision_before = 0, revision_after = 0;  // 0: the published revision
};

// `score-account`: one account (a JSON file: id, attributes, members) with the account model.
int ScoreAccountFile(const ScoringTarget& target, const ScoreOptions& o) {
  sv1::ScoreAccountRequest request;
  if (!ReadJson(o.file, request.mutable_account())) {
    return 1;
  }
  if (absl::Status s = FillRequest(o, request.mutable_selector(), request.mutable_as_of());
      !s.ok()) {
    return Fail(s);
  }
  request.mutable_selector()->set_account_model(o.account_model);
  grpc::ClientContext ctx;
  Prepare(ctx, target);
  sv1::AccountScore s;
  grpc::Status status = ScoringStub(target)->ScoreAccount(&ctx, request, &s);
  if (!status.ok()) {
    return Fail(FromGrpcStatus(status));
  }
  if (o.output == "json") {
    std::string json;
    google::protobuf::util::JsonPrintOptions print;
    print.add_whitespace = true;
    (void)google::protobuf::util::MessageToJsonString(s, &json, print);
    std::cout << json;
    return 0;
  }
  PrintAccount(s);
  return 0;
}

// `explain-change`: why a lead's (or account's) score changed between two moments.
int ExplainChange(const ScoringTarget& target, const ExplainOptions& o) {
  sv1::ExplainScoreChangeRequest request;
  const bool ok = o.account ? ReadJson(o.before, request.mutable_account_before()) &&
                                  ReadJson(o.after, request.mutable_account_after())
                            : ReadJson(o.before, request.mutable_lead_before()) &&
                                  ReadJson(o.after, request.mutable_lead_after());
  if (!ok) {
    return 1;
  }
  ScoreOptions times = o.scoring;
  if (absl::Status s =
          FillRequest(times, request.mutable_selector(), request.mutable_as_of_before());
      !s.ok()) {
    return Fail(s);
  }
  times.as_of = o.as_of_after.empty() ? o.scoring.as_of : o.as_of_after;
  if (absl::Status s =
          FillRequest(times, request.mutable_selector(), request.mutable_as_of_after());
      !s.ok()) {
    return Fail(s);
  }
  if (o.scoring.as_of.empty()) {
    return Fail(InvalidField("--as-of", "is required: the moment of the first file"));
  }
  request.mutable_selector()->set_account_model(o.scoring.account_model);
  request.set_revision_before(o.revision_before);
  request.set_revision_after(o.revision_after);
  grpc::ClientContext ctx;
  Prepare(ctx, target);
  sv1::ExplainScoreChangeResponse r;
  grpc::Status status = ScoringStub(target)->ExplainScoreChange(&ctx, request, &r);
  if (!status.ok()) {
    return Fail(FromGrpcStatus(status));
  }
  const bool account = o.account;
  const std::string id = account ? r.account_before().account_id() : r.before().lead_id();
  const double before = account ? r.account_before().total() : r.before().total();
  const double after = account ? r.account_after().total() : r.after().total();
  const std::string level_before = account ? r.account_before().level() : r.before().level();
  const std::string level_after = account ? r.account_after().level() : r.after().level();
  std::printf("%s %s: total %.1f -> %.1f (%+.1f), level %s -> %s\n", account ? "Account" : "Lead",
              id.c_str(), before, after, r.total_change(),
              level_before.empty() ? "(none)" : level_before.c_str(),
              level_after.empty() ? "(none)" : level_after.c_str());
  PrintDefinitions(account ? r.account_before().definitions() : r.before().definitions());
  PrintDefinitions(account ? r.account_after().definitions() : r.after().definitions());
  for (const sv1::ScoreChangePart& p : r.parts()) {
    std::printf(
        "\n  %-18s %+8.1f  (fit %+.1f, engagement %+.1f%s)", CauseWord(p.cause()), p.total(),
        p.fit(), p.engagement(),
        account
            ? absl::StrCat(", coverage ", absl::StrFormat("%+.0f%%", p.coverage() * 100)).c_str()
            : "");
    if (p.level_before() != p.level_after()) {
      std::printf("  level %s -> %s",
                  p.level_before().empty() ? "(none)" : p.level_before().c_str(),
                  p.level_after().empty() ? "(none)" : p.level_after().c_str());
    }
    std::printf("\n");
    for (const sv1::ReasonDelta& d : p.reasons()) {
      std::printf("      %-11s %-14s %-20s %+.1f -> %+.1f\n", KindWord(d.kind()), d.group().c_str(),
                  d.rule().c_str(), d.points_before(), d.points_after());
    }
  }
  std::printf("\n  The three parts add up to the change: %+.1f\n", r.total_change());
  return 0;
}

}  // namespace

void AddAccountCommands(CLI::App& app, const Globals& g, int& exit_code) {
  struct Args {
    std::string file, model, account_model, as_of, before, after, as_of_after;
    int64_t revision_before = 0, revision_after = 0;
    bool account = false;
  };
  auto a = std::make_shared<Args>();
  auto* score_account =
      app.add_subcommand("score-account", "qualify an account from its attributes and members");
  score_account->add_option("-f,--file", a->file, "the account (JSON: id, attributes, members)")
      ->required();
  score_account->add_option("--account-model", a->account_model,
                            "account model (default: the only one)");
  score_account->add_option("--as-of", a->as_of, "score as of this RFC 3339 time (default: now)");
  score_account->callback([a, &g, &exit_code] {
    exit_code = ScoreAccountFile(ScoringTargetOf(g),
                                 {a->file, a->model, g.ns, a->as_of, g.output, a->account_model});
  });

  auto* explain_change =
      app.add_subcommand("explain-change", "split a score's change into definition, data and time");
  explain_change->add_option("--before", a->before, "the lead (or account) then, JSON")->required();
  explain_change->add_option("--after", a->after, "the lead (or account) now, JSON")->required();
  explain_change->add_option("--as-of", a->as_of, "the first moment, RFC 3339")->required();
  explain_change->add_option("--as-of-after", a->as_of_after,
                             "the second moment (default: --as-of)");
  explain_change->add_option("--revision-before", a->revision_before,
                             "model (or account model) revision then (default: published)");
  explain_change->add_option("--revision-after", a->revision_after,
                             "model (or account model) revision now (default: published)");
  explain_change->add_flag("--account", a->account, "the files are accounts");
  explain_change->add_option("--model", a->model, "qualification model (default: the only one)");
  explain_change->add_option("--account-model", a->account_model,
                             "account model (default: the only one)");
  explain_change->callback([a, &g, &exit_code] {
    ScoreOptions options{a->file, a->model, g.ns, a->as_of, g.output, a->account_model};
    exit_code =
        ExplainChange(ScoringTargetOf(g), {options, a->before, a->after, a->account, a->as_of_after,
                                           a->revision_before, a->revision_after});
  });
}

}  // namespace accord::cli
