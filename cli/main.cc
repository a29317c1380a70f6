// accordctl: definitions as code, the review workflow, and watching the registry.
#include <cstdlib>
#include <iostream>
#include <set>

#include "CLI/CLI.hpp"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "cli/scoring_commands.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"
#include "grpcpp/grpcpp.h"

#include "accord/registry/v1/registry.grpc.pb.h"
#include "common/status.h"
#include "definitions/loader.h"
#include "definitions/validation.h"

namespace {

namespace v1 = accord::registry::v1;
using accord::definitions::DefinitionDocument;

struct Globals {
  std::string server = "127.0.0.1:7400";
  std::string token;
  std::string output = "table";
  std::string ns = "default";
  double timeout_seconds = 10;
};

// Exit codes: 0 ok, 1 the server or the input said no, 2 usage.
int Fail(const absl::Status& status) {
  std::cerr << "error: " << absl::StatusCodeToString(status.code()) << ": " << status.message()
            << "\n";
  for (const auto& v : accord::FieldViolations(status)) {
    std::cerr << "  " << v.field << ": " << v.description << "\n";
  }
  std::string reason = accord::ErrorReason(status);
  if (!reason.empty()) {
    std::cerr << "  reason: " << reason << "\n";
  }
  return 1;
}

class Client {
 public:
  explicit Client(const Globals& g) : g_(g) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 20000);
    args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10000);
    stub_ = v1::Registry::NewStub(
        grpc::CreateCustomChannel(g.server, grpc::InsecureChannelCredentials(), args));
  }

  std::unique_ptr<grpc::ClientContext> Context(bool streaming = false) const {
    auto ctx = std::make_unique<grpc::ClientContext>();
    if (!streaming) {
      ctx->set_deadline(std::chrono::system_clock::now() +
                        std::chrono::milliseconds(static_cast<int64_t>(g_.timeout_seconds * 1000)));
    }
    if (!g_.token.empty()) {
      ctx->AddMetadata("authorization", "Bearer " + g_.token);
    }
    return ctx;
  }

  template <typename Req, typename Resp, typename Method>
  absl::StatusOr<Resp> Call(Method method, const Req& request) const {
    Resp response;
    auto ctx = Context();
    grpc::Status status = (stub_.get()->*method)(ctx.get(), request, &response);
    if (!status.ok()) {
      return accord::FromGrpcStatus(status);
    }
    return response;
  }

  v1::Registry::Stub* stub() const { return stub_.get(); }
  const Globals& globals() const { return g_; }

  // "it-director" -> namespaces/{ns}/definitions/it-director; full names pass through.
  std::string Name(const std::string& ref) const {
    return absl::StartsWith(ref, "namespaces/")
               ? ref
               : absl::StrCat("namespaces/", g_.ns, "/definitions/", ref);
  }

 private:
  const Globals& g_;
  std::unique_ptr<v1::Registry::Stub> stub_;
};

std::string Json(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(m, &out, options);
  return out;
}

std::string JsonLine(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(m, &out, options);
  return out;
}

void Print(const Globals& g, const google::protobuf::Message& m) {
  if (g.output == "json") {
    std::cout << Json(m);
  } else if (g.output == "jsonl") {
    std::cout << JsonLine(m) << "\n";
  } else {
    std::cout << accord::definitions::ToYaml(m);
  }
}

std::string ShortKind(v1::DefinitionKind k) {
  switch (k) {
    case v1::BUYER_PERSONA:
      return "persona";
    case v1::QUALIFICATION_MODEL:
      return "model";
    case v1::BUYER_JOURNEY:
      return "journey";
    case v1::SERVICE_LEVEL_AGREEMENT:
      return "sla";
    case v1::ACCOUNT_MODEL:
      return "account";
    default:
      return "?";
  }
}

void PrintDefinitionRow(const v1::Definition& d) {
  std::printf(
      "%-55s %-8s %-9s %-9s %-7s %s\n", d.name().c_str(), ShortKind(d.kind()).c_str(),
      d.published_revision() ? absl::StrCat("r", d.published_revision()).c_str() : "-",
      d.pending_revision() ? absl::StrCat("r", d.pending_revision()).c_str() : "-",
      d.state() == v1::Definition::DELETED ? "deleted" : (d.draft_changed() ? "edited" : "clean"),
      d.display_name().c_str());
}

void PrintRevisionRow(const v1::Revision& r) {
  std::vector<std::string> reviews;
  for (const auto& rv : r.reviews()) {
    reviews.push_back(absl::StrCat(rv.team(), ":",
                                   rv.verdict() == v1::Review::APPROVE ? "approved" : "rejected",
                                   " by ", rv.principal()));
  }
  std::printf(
      "r%-4lld %-10s %-22s %-20s %s%s\n", static_cast<long long>(r.revision_number()),
      v1::Revision::State_Name(r.state()).c_str(),
      google::protobuf::util::TimeUtil::ToString(r.create_time()).substr(0, 19).c_str(),
      r.proposer().c_str(), absl::StrJoin(reviews, "; ").c_str(),
      r.change_summary().empty() ? "" : absl::StrCat("  \"", r.change_summary(), "\"").c_str());
}

void PrintAuditRow(const v1::AuditEvent& e) {
  std::printf("%-6lld %-20s %-20s %-18s %s %s\n", static_cast<long long>(e.sequence()),
              google::protobuf::util::TimeUtil::ToString(e.time()).substr(0, 19).c_str(),
              e.principal().c_str(), e.action().c_str(), e.resource().c_str(), e.detail().c_str());
}

// Prints a list response as a table (`rows`) or as YAML/JSON; the error otherwise.
template <typename Response, typename Rows>
int ShowList(const Globals& g, const absl::StatusOr<Response>& page, Rows rows) {
  if (!page.ok()) {
    return Fail(page.status());
  }
  if (g.output == "table") {
    rows(*page);
  } else {
    Print(g, *page);
  }
  return 0;
}

// ------------------------------------------------------------------ commands

class FileResolver final : public accord::ReferenceResolver {
 public:
  explicit FileResolver(const std::vector<DefinitionDocument>& docs) {
    for (const auto& d : docs) {
      by_name_[d.definition.name()] = d.definition;
    }
  }
  std::optional<v1::Definition> Resolve(absl::string_view ns,
                                        absl::string_view ref) const override {
    auto it = by_name_.find(accord::ResolveReferenceName(ns, ref));
    if (it == by_name_.end()) {
      return std::nullopt;
    }
    return it->second;
  }

 private:
  std::map<std::string, v1::Definition> by_name_;
};

int Validate(const std::string& path) {
  absl::StatusOr<std::vector<DefinitionDocument>> docs = accord::definitions::ReadDefinitions(path);
  if (!docs.ok()) {
    std::cerr << docs.status().message() << "\n";
    return 1;
  }
  FileResolver resolver(*docs);
  int problems = 0;
  std::set<std::string> names;
  for (const DefinitionDocument& d : *docs) {
    std::vector<accord::FieldViolation> violations;
    if (!names.insert(d.definition.name()).second) {
      violations.push_back({"name", "is defined twice"});
    }
    std::vector<std::string> parts = absl::StrSplit(d.definition.name(), '/');
    if (parts.size() != 4 || parts[0] != "namespaces" || parts[2] != "definitions" ||
        !accord::IsValidId(parts[1]) || !accord::IsValidId(parts[3])) {
      violations.push_back({"name", "must be namespaces/{namespace}/definitions/{id}"});
    }
    for (auto& v : accord::ValidateDefinition(d.definition, "", &resolver)) {
      violations.push_back(std::move(v));
    }
    for (const auto& v : violations) {
      std::cerr << d.file << ":" << d.line << ": " << d.definition.name() << ": "
                << (v.field.empty() ? "" : v.field + ": ") << v.description << "\n";
      ++problems;
    }
  }
  if (problems > 0) {
    std::cerr << problems << " problem(s) in " << docs->size() << " definition(s)\n";
    return 1;
  }
  std::cout << docs->size() << " definition(s) valid\n";
  return 0;
}

// Creates or updates the drafts of every definition in `path`; with `create_only`, definitions
// that exist already are left as they are (reported "exists").
int Apply(const Client& c, const std::string& path, bool create_only) {
  absl::StatusOr<std::vector<DefinitionDocument>> docs = accord::definitions::ReadDefinitions(path);
  if (!docs.ok()) {
    std::cerr << docs.status().message() << "\n";
    return 1;
  }
  int failures = 0;
  for (const DefinitionDocument& doc : *docs) {
    const std::string& name = doc.definition.name();
    v1::GetDefinitionRequest get;
    get.set_name(name);
    auto current =
        c.Call<v1::GetDefinitionRequest, v1::Definition>(&v1::Registry::Stub::GetDefinition, get);
    absl::StatusOr<v1::Definition> result;
    std::string verb;
    if (!current.ok() && current.status().code() == absl::StatusCode::kNotFound) {
      v1::CreateDefinitionRequest create;
      size_t at = name.find("/definitions/");
      create.set_parent(name.substr(0, at == std::string::npos ? 0 : at));
      create.set_definition_id(at == std::string::npos ? name : name.substr(at + 13));
      *create.mutable_definition() = doc.definition;
      create.mutable_definition()->clear_name();
      result = c.Call<v1::CreateDefinitionRequest, v1::Definition>(
          &v1::Registry::Stub::CreateDefinition, create);
      verb = "created";
    } else if (current.ok() && create_only) {
      std::cout << name << " exists\n";
      continue;
    } else if (current.ok()) {
      v1::UpdateDefinitionRequest update;
      *update.mutable_definition() = doc.definition;
      update.mutable_definition()->set_etag(current->etag());
      result = c.Call<v1::UpdateDefinitionRequest, v1::Definition>(
          &v1::Registry::Stub::UpdateDefinition, update);
      verb = result.ok() && result->etag() == current->etag() ? "unchanged" : "updated";
    } else {
      result = current.status();
    }
    if (!result.ok()) {
      std::cerr << doc.file << ":" << doc.line << ": " << name << ": ";
      Fail(result.status());
      ++failures;
      continue;
    }
    std::cout << name << " " << verb << "\n";
  }
  return failures == 0 ? 0 : 1;
}

int Watch(const Client& c, int64_t from, const std::vector<std::string>& kinds) {
  v1::WatchDefinitionsRequest request;
  request.set_parent(absl::StrCat("namespaces/", c.globals().ns));
  request.set_start_after_sequence(from);
  for (const std::string& k : kinds) {
    v1::DefinitionKind kind;
    if (!v1::DefinitionKind_Parse(k, &kind)) {
      std::cerr << "unknown kind " << k << "\n";
      return 2;
    }
    request.add_kinds(kind);
  }
  auto ctx = c.Context(true);
  auto reader = c.stub()->WatchDefinitions(ctx.get(), request);
  v1::WatchDefinitionsResponse message;
  while (reader->Read(&message)) {
    if (c.globals().output == "json") {
      std::string line;
      (void)google::protobuf::util::MessageToJsonString(message, &line);
      std::cout << line << std::endl;
      continue;
    }
    switch (message.payload_case()) {
      case v1::WatchDefinitionsResponse::kSnapshotBegin:
        std::cout << "seq " << message.sequence() << " snapshot begin ("
                  << v1::SnapshotBegin::Reason_Name(message.snapshot_begin().reason()) << ")"
                  << std::endl;
        break;
      case v1::WatchDefinitionsResponse::kSnapshotEnd:
        std::cout << "seq " << message.sequence()
                  << " snapshot end: " << message.snapshot_end().definition_count()
                  << " definitions" << std::endl;
        break;
      case v1::WatchDefinitionsResponse::kProgress:
        std::cout << "seq " << message.sequence() << " progress" << std::endl;
        break;
      case v1::WatchDefinitionsResponse::kChanges:
        for (const auto& e : message.changes().events()) {
          std::cout << "seq " << e.sequence() << " " << v1::WatchEvent::Type_Name(e.type()) << " "
                    << e.definition()
                    << (e.type() == v1::WatchEvent::UPSERT
                            ? absl::StrCat(" r", e.revision().revision_number())
                            : "")
                    << std::endl;
        }
        break;
      default:
        break;
    }
  }
  grpc::Status status = reader->Finish();
  return status.ok() ? 0 : Fail(accord::FromGrpcStatus(status));
}

// One change of a DiffDefinition, as a line: "~ MQL needs fit >= 45 (was 40)  [tightens]".
void PrintChange(const v1::DefinitionChange& change) {
  const char sign = change.kind() == v1::DefinitionChange::ADDED     ? '+'
                    : change.kind() == v1::DefinitionChange::REMOVED ? '-'
                                                                     : '~';
  std::string effect;
  if (change.effect() != v1::DefinitionChange::EFFECT_UNSPECIFIED) {
    effect = absl::StrCat(
        "  [", absl::AsciiStrToLower(v1::DefinitionChange::Effect_Name(change.effect())), "]");
  }
  std::cout << sign << " " << change.summary() << effect << "\n";
  if (!change.path().empty()) {
    std::cout << "    at " << change.path() << "\n";
  }
}

}  // namespace

int main(int argc, char** argv) {
  Globals g;
  if (const char* s = std::getenv("ACCORD_SERVER")) {
    g.server = s;
  }
  if (const char* t = std::getenv("ACCORD_TOKEN")) {
    g.token = t;
  }
  CLI::App app{"accordctl: Accord's definitions as code, reviews and watches"};
  app.require_subcommand(1);
  app.fallthrough();  // global options may follow the subcommand
  app.add_option("--server", g.server, "registry or gateway HOST:PORT (env ACCORD_SERVER)");
  app.add_option("--token", g.token, "API key (env ACCORD_TOKEN)");
  app.add_option("-o,--output", g.output, "table, yaml or json")
      ->check(CLI::IsMember({"table", "yaml", "json", "jsonl", "csv"}));
  app.add_option("-n,--namespace", g.ns, "namespace for short names")->capture_default_str();
  app.add_option("--timeout", g.timeout_seconds, "seconds per call")->capture_default_str();

  std::string file, name, summary, comment, team, filter;
  std::string revision = "latest";
  int64_t from = 0, to = 0;
  bool show_deleted = false;
  std::vector<std::string> kinds;

  auto* validate = app.add_subcommand("validate", "check definition files offline (no server)");
  validate->add_option("-f,--file", file, "file or directory")->required();
  std::string leads_file;
  validate->add_option("--leads", leads_file,
                       "also check a sample of leads (.jsonl or .csv) against the models' field "
                       "dictionaries");
  auto* apply = app.add_subcommand("apply", "create or update drafts from files");
  apply->add_option("-f,--file", file, "file or directory")->required();
  bool create_only = false;
  apply->add_flag("--create-only", create_only,
                  "create the definitions that do not exist; leave existing ones untouched");
  auto* get = app.add_subcommand("get", "show a definition (draft and metadata)");
  get->add_option("name", name)->required();
  get->add_option("--revision", revision, "show a revision instead: N, latest, published");
  auto* list = app.add_subcommand("list", "list definitions");
  list->add_option("--filter", filter, "e.g. 'kind = BUYER_PERSONA AND pending = true'");
  list->add_flag("--show-deleted", show_deleted);
  auto* diff =
      app.add_subcommand("diff", "what changes, item by item (default: draft vs published)");
  diff->add_option("name", name)->required();
  std::string diff_from = "published", diff_to = "draft";
  diff->add_option("--from", diff_from, "published, latest, draft or a revision number")
      ->capture_default_str();
  diff->add_option("--to", diff_to, "published, latest, draft or a revision number")
      ->capture_default_str();
  auto* propose = app.add_subcommand("propose", "freeze the draft into a proposed revision");
  propose->add_option("name", name)->required();
  propose->add_option("-m,--summary", summary, "change summary");
  auto* approve = app.add_subcommand("approve", "approve a revision for your team");
  auto* reject = app.add_subcommand("reject", "reject a revision");
  for (auto* sub : {approve, reject}) {
    sub->add_option("name", name)->required();
    sub->add_option("--revision", revision, "revision number (default: latest)");
    sub->add_option("--team", team, "team you act for (if you approve for several)");
    sub->add_option("-m,--comment", comment, "comment (required to reject)");
  }
  auto* publish = app.add_subcommand("publish", "publish an approved revision");
  publish->add_option("name", name)->required();
  publish->add_option("--revision", revision, "revision number (default: latest)");
  auto* rollback = app.add_subcommand("rollback", "republish an earlier revision's content");
  rollback->add_option("name", name)->required();
  rollback->add_option("--to", to, "revision number to restore")->required();
  auto* history = app.add_subcommand("history", "revisions of a definition");
  history->add_option("name", name)->required();
  auto* audit = app.add_subcommand("audit", "audit log of the namespace or one definition");
  audit->add_option("name", name);
  auto* watch = app.add_subcommand("watch", "stream published changes");
  watch->add_option("--from", from, "resume after this sequence (0 = full state first)");
  watch->add_option("--kind", kinds, "BUYER_PERSONA, QUALIFICATION_MODEL, ...");
  std::string scoring_server, model, as_of;
  if (const char* s = std::getenv("ACCORD_SCORING_SERVER")) {
    scoring_server = s;
  }
  app.add_option("--scoring-server", scoring_server,
                 "scoring service HOST:PORT (env ACCORD_SCORING_SERVER; default --server)");
  auto* score = app.add_subcommand("score", "score a file of leads (.jsonl or .csv)");
  auto* explain = app.add_subcommand("explain", "explain one lead's score (a JSON file)");
  for (auto* sub : {score, explain}) {
    sub->add_option("-f,--file", file, "leads")->required();
    sub->add_option("--model", model, "qualification model (default: the only one)");
    sub->add_option("--as-of", as_of, "score as of this RFC 3339 time (default: now)");
  }
  std::string account_model, before_file, after_file, as_of_after;
  int64_t revision_before = 0, revision_after = 0;
  bool account_change = false;
  auto* score_account =
      app.add_subcommand("score-account", "qualify an account from its attributes and members");
  score_account->add_option("-f,--file", file, "the account (JSON: id, attributes, members)")
      ->required();
  score_account->add_option("--account-model", account_model,
                            "account model (default: the only one)");
  score_account->add_option("--as-of", as_of, "score as of this RFC 3339 time (default: now)");
  auto* explain_change =
      app.add_subcommand("explain-change", "split a score's change into definition, data and time");
  explain_change->add_option("--before", before_file, "the lead (or account) then, JSON")
      ->required();
  explain_change->add_option("--after", after_file, "the lead (or account) now, JSON")->required();
  explain_change->add_option("--as-of", as_of, "the first moment, RFC 3339")->required();
  explain_change->add_option("--as-of-after", as_of_after, "the second moment (default: --as-of)");
  explain_change->add_option("--revision-before", revision_before,
                             "model (or account model) revision then (default: published)");
  explain_change->add_option("--revision-after", revision_after,
                             "model (or account model) revision now (default: published)");
  explain_change->add_flag("--account", account_change, "the files are accounts");
  explain_change->add_option("--model", model, "qualification model (default: the only one)");
  explain_change->add_option("--account-model", account_model,
                             "account model (default: the only one)");
  auto* preview = app.add_subcommand("preview", "impact of a proposed revision on a file of leads");
  preview->add_option("name", name, "the definition")->required();
  preview->add_option("-f,--file", file, "leads (.jsonl or .csv)")->required();
  preview->add_option("--revision", revision, "revision to preview (default: latest)");
  preview->add_option("--model", model, "qualification model (default: the only one)");
  preview->add_option("--as-of", as_of, "score as of this RFC 3339 time (default: now)");
  auto* del = app.add_subcommand("delete", "soft-delete a definition");
  del->add_option("name", name)->required();
  auto* undelete = app.add_subcommand("undelete", "restore a soft-deleted definition");
  undelete->add_option("name", name)->required();

  CLI11_PARSE(app, argc, argv);

  if (*validate) {
    int valid = Validate(file);
    if (valid != 0 || leads_file.empty()) {
      return valid;
    }
    auto docs = accord::definitions::ReadDefinitions(file);
    std::vector<v1::Definition> definitions;
    for (auto& d : *docs) {
      definitions.push_back(std::move(d.definition));
    }
    return accord::cli::CheckLeads(leads_file, definitions);
  }
  if (*score || *explain) {
    accord::cli::ScoringTarget target{scoring_server.empty() ? g.server : scoring_server, g.token,
                                      g.timeout_seconds};
    accord::cli::ScoreOptions options{
        file, model, g.ns, as_of, g.output == "yaml" || g.output == "json" ? "jsonl" : g.output};
    return *score ? accord::cli::ScoreFile(target, options) : accord::cli::Explain(target, options);
  }
  if (*score_account || *explain_change) {
    accord::cli::ScoringTarget target{scoring_server.empty() ? g.server : scoring_server, g.token,
                                      g.timeout_seconds};
    accord::cli::ScoreOptions options{file, model, g.ns, as_of, g.output, account_model};
    if (*score_account) {
      return accord::cli::ScoreAccountFile(target, options);
    }
    return accord::cli::ExplainChange(target, {options, before_file, after_file, account_change,
                                               as_of_after, revision_before, revision_after});
  }
  Client c(g);
  auto revision_name = [&](const std::string& def) -> absl::StatusOr<std::string> {
    if (revision != "latest" && revision != "published") {
      return absl::StrCat(c.Name(def), "/revisions/", revision);
    }
    v1::GetRevisionRequest r;
    r.set_name(absl::StrCat(c.Name(def), "/revisions/", revision));
    ACCORD_ASSIGN_OR_RETURN(v1::Revision rev, (c.Call<v1::GetRevisionRequest, v1::Revision>(
                                                  &v1::Registry::Stub::GetRevision, r)));
    return rev.name();
  };
  auto show_revision = [&](const absl::StatusOr<v1::Revision>& r) {
    if (!r.ok()) {
      return Fail(r.status());
    }
    if (g.output == "table") {
      std::cout << r->name() << " " << v1::Revision::State_Name(r->state()) << "\n";
      PrintRevisionRow(*r);
    } else {
      Print(g, *r);
    }
    return 0;
  };
  auto show_definition = [&](const absl::StatusOr<v1::Definition>& d) {
    if (!d.ok()) {
      return Fail(d.status());
    }
    if (g.output == "table") {
      PrintDefinitionRow(*d);
    } else {
      Print(g, *d);
    }
    return 0;
  };

  if (*apply) {
    return Apply(c, file, create_only);
  }
  if (*get) {
    if (get->count("--revision") > 0) {
      v1::GetRevisionRequest r;
      r.set_name(absl::StrCat(c.Name(name), "/revisions/", revision));
      auto rev = c.Call<v1::GetRevisionRequest, v1::Revision>(&v1::Registry::Stub::GetRevision, r);
      if (!rev.ok()) {
        return Fail(rev.status());
      }
      Print(g, *rev);
      return 0;
    }
    v1::GetDefinitionRequest r;
    r.set_name(c.Name(name));
    auto d =
        c.Call<v1::GetDefinitionRequest, v1::Definition>(&v1::Registry::Stub::GetDefinition, r);
    if (!d.ok()) {
      return Fail(d.status());
    }
    Print(g, *d);
    return 0;
  }
  if (*list) {
    v1::ListDefinitionsRequest r;
    r.set_parent(absl::StrCat("namespaces/", g.ns));
    r.set_filter(filter);
    r.set_show_deleted(show_deleted);
    r.set_page_size(1000);
    // Every page first: a failed call prints nothing on stdout, and -o json|yaml is one
    // document (the whole list), as a single response would be.
    v1::ListDefinitionsResponse all;
    do {
      auto page = c.Call<v1::ListDefinitionsRequest, v1::ListDefinitionsResponse>(
          &v1::Registry::Stub::ListDefinitions, r);
      if (!page.ok()) {
        return Fail(page.status());
      }
      for (auto& d : *page->mutable_definitions()) {
        *all.add_definitions() = std::move(d);
      }
      r.set_page_token(page->next_page_token());
    } while (!r.page_token().empty());
    if (g.output == "table") {
      std::printf("%-55s %-8s %-9s %-9s %-7s %s\n", "NAME", "KIND", "PUBLISHED", "PENDING", "DRAFT",
                  "DISPLAY NAME");
      for (const auto& d : all.definitions()) {
        PrintDefinitionRow(d);
      }
    } else if (g.output == "jsonl") {
      for (const auto& d : all.definitions()) {
        std::cout << JsonLine(d) << "\n";
      }
    } else {
      Print(g, all);
    }
    return 0;
  }
  if (*diff) {
    v1::DiffDefinitionRequest r;
    r.set_name(c.Name(name));
    r.set_from(diff_from);
    r.set_to(diff_to);
    auto d = c.Call<v1::DiffDefinitionRequest, v1::DefinitionDiff>(
        &v1::Registry::Stub::DiffDefinition, r);
    if (!d.ok()) {
      return Fail(d.status());
    }
    if (g.output != "table") {
      Print(g, *d);
      return 0;
    }
    std::cout << "--- " << d->from() << "\n+++ " << d->to() << "\n";
    for (const v1::DefinitionChange& change : d->changes()) {
      PrintChange(change);
    }
    if (d->changes().empty()) {
      std::cout << "(no changes)\n";
    }
    return 0;
  }
  if (*propose) {
    v1::ProposeRevisionRequest r;
    r.set_name(c.Name(name));
    r.set_change_summary(summary);
    return show_revision(
        c.Call<v1::ProposeRevisionRequest, v1::Revision>(&v1::Registry::Stub::ProposeRevision, r));
  }
  if (*approve || *reject) {
    absl::StatusOr<std::string> rev = revision_name(name);
    if (!rev.ok()) {
      return Fail(rev.status());
    }
    v1::ReviewRevisionRequest r;
    r.set_name(*rev);
    r.set_team(team);
    r.set_comment(comment);
    return show_revision(*approve ? c.Call<v1::ReviewRevisionRequest, v1::Revision>(
                                        &v1::Registry::Stub::ApproveRevision, r)
                                  : c.Call<v1::ReviewRevisionRequest, v1::Revision>(
                                        &v1::Registry::Stub::RejectRevision, r));
  }
  if (*publish) {
    absl::StatusOr<std::string> rev = revision_name(name);
    if (!rev.ok()) {
      return Fail(rev.status());
    }
    v1::PublishRevisionRequest r;
    r.set_name(*rev);
    return show_revision(
        c.Call<v1::PublishRevisionRequest, v1::Revision>(&v1::Registry::Stub::PublishRevision, r));
  }
  if (*rollback) {
    v1::RollbackDefinitionRequest r;
    r.set_name(c.Name(name));
    r.set_revision_number(to);
    return show_revision(c.Call<v1::RollbackDefinitionRequest, v1::Revision>(
        &v1::Registry::Stub::RollbackDefinition, r));
  }
  if (*history) {
    v1::ListRevisionsRequest r;
    r.set_parent(c.Name(name));
    r.set_page_size(1000);
    return ShowList(g,
                    c.Call<v1::ListRevisionsRequest, v1::ListRevisionsResponse>(
                        &v1::Registry::Stub::ListRevisions, r),
                    [](const v1::ListRevisionsResponse& page) {
                      for (const auto& rev : page.revisions()) {
                        PrintRevisionRow(rev);
                      }
                    });
  }
  if (*audit) {
    v1::ListAuditEventsRequest r;
    r.set_parent(absl::StrCat("namespaces/", g.ns));
    if (!name.empty()) {
      r.set_resource(c.Name(name));
    }
    r.set_page_size(200);
    return ShowList(g,
                    c.Call<v1::ListAuditEventsRequest, v1::ListAuditEventsResponse>(
                        &v1::Registry::Stub::ListAuditEvents, r),
                    [](const v1::ListAuditEventsResponse& page) {
                      for (const auto& e : page.events()) {
                        PrintAuditRow(e);
                      }
                    });
  }
  if (*watch) {
    return Watch(c, from, kinds);
  }
  if (*preview) {
    v1::GetRevisionRequest r;
    r.set_name(absl::StrCat(c.Name(name), "/revisions/", revision));
    auto rev = c.Call<v1::GetRevisionRequest, v1::Revision>(&v1::Registry::Stub::GetRevision, r);
    if (!rev.ok()) {
      return Fail(rev.status());
    }
    v1::Definition proposed = rev->snapshot();
    proposed.set_name(c.Name(name));
    accord::cli::ScoringTarget target{scoring_server.empty() ? g.server : scoring_server, g.token,
                                      g.timeout_seconds};
    accord::cli::ScoreOptions options{file, model, g.ns, as_of, g.output};
    return accord::cli::Preview(target, options, proposed);
  }
  if (*del) {
    v1::DeleteDefinitionRequest r;
    r.set_name(c.Name(name));
    return show_definition(c.Call<v1::DeleteDefinitionRequest, v1::Definition>(
        &v1::Registry::Stub::DeleteDefinition, r));
  }
  if (*undelete) {
    v1::UndeleteDefinitionRequest r;
    r.set_name(c.Name(name));
    return show_definition(c.Call<v1::UndeleteDefinitionRequest, v1::Definition>(
        &v1::Registry::Stub::UndeleteDefinition, r));
  }
  return 2;
}
