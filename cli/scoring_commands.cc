#include "cli/scoring_commands.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"
#include "grpcpp/grpcpp.h"

#include "accord/scoring/v1/scoring.grpc.pb.h"
#include "common/status.h"

namespace accord::cli {
namespace {

namespace sv1 = ::accord::scoring::v1;
constexpr int kChunk = 500;

int Fail(const absl::Status& status) {
  std::cerr << "error: " << absl::StatusCodeToString(status.code()) << ": " << status.message()
            << "\n";
  for (const auto& v : FieldViolations(status)) {
    std::cerr << "  " << v.field << ": " << v.description << "\n";
  }
  return 1;
}

// One CSV record (RFC 4180 quoting); false at end of input.
bool ReadCsvRecord(std::istream& in, std::vector<std::string>& fields, int& line) {
  fields.clear();
  std::string field;
  bool quoted = false, any = false;
  char c;
  while (in.get(c)) {
    any = true;
    if (quoted) {
      if (c == '"') {
        if (in.peek() == '"') {
          field += '"';
          in.get(c);
        } else {
          quoted = false;
        }
      } else {
        if (c == '\n') {
          ++line;
        }
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.push_back(std::move(field));
      field.clear();
    } else if (c == '\n') {
      ++line;
      fields.push_back(std::move(field));
      return true;
    } else if (c != '\r') {
      field += c;
    }
  }
  if (any) {
    fields.push_back(std::move(field));
  }
  return any;
}

void SetPath(google::protobuf::Struct* root, const std::vector<std::string>& path,
             const std::string& text) {
  google::protobuf::Struct* s = root;
  for (size_t i = 0; i + 1 < path.size(); ++i) {
    s = (*s->mutable_fields())[path[i]].mutable_struct_value();
  }
  google::protobuf::Value& v = (*s->mutable_fields())[path.back()];
  double number;
  if (text == "true" || text == "false") {
    v.set_bool_value(text == "true");
  } else if (!text.empty() && absl::SimpleAtod(text, &number) &&
             text.find_first_not_of("0123456789.-+eE") == std::string::npos) {
    v.set_number_value(number);
  } else {
    v.set_string_value(text);
  }
}

absl::StatusOr<std::vector<sv1::Lead>> ReadLeads(const std::string& file) {
  std::ifstream in(file);
  if (!in) {
    return absl::NotFoundError(absl::StrCat(file, ": cannot be read"));
  }
  std::vector<sv1::Lead> leads;
  const bool csv = absl::EndsWith(file, ".csv");
  if (csv) {
    std::vector<std::string> header, row;
    int line = 0;
    if (!ReadCsvRecord(in, header, line)) {
      return absl::InvalidArgumentError(absl::StrCat(file, ":1: empty file"));
    }
    std::vector<std::vector<std::string>> paths;
    for (const std::string& h : header) {
      paths.push_back(absl::StrSplit(absl::StripAsciiWhitespace(h), '.'));
    }
    int start = line + 1;
    while (ReadCsvRecord(in, row, line)) {
      if (row.size() == 1 && row[0].empty()) {
        start = line + 1;
        continue;
      }
      if (row.size() != header.size()) {
        return absl::InvalidArgumentError(absl::StrCat(file, ":", start, ": ", row.size(),
                                                       " columns, the header has ", header.size()));
      }
      sv1::Lead& lead = leads.emplace_back();
      for (size_t i = 0; i < row.size(); ++i) {
        if (header[i] == "id") {
          lead.set_id(row[i]);
        } else if (!row[i].empty()) {
          SetPath(lead.mutable_attributes(), paths[i], row[i]);
        }
      }
      start = line + 1;
    }
    return leads;
  }
  std::string text;
  int line = 0;
  while (std::getline(in, text)) {
    ++line;
    if (absl::StripAsciiWhitespace(text).empty()) {
      continue;
    }
    google::protobuf::util::JsonParseOptions options;
    options.ignore_unknown_fields = false;
    auto status = google::protobuf::util::JsonStringToMessage(text, &leads.emplace_back(), options);
    if (!status.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(file, ":", line, ": ", std::string(status.message())));
    }
  }
  return leads;
}

std::unique_ptr<sv1::Scoring::Stub> Stub(const ScoringTarget& t) {
  return sv1::Scoring::NewStub(grpc::CreateChannel(t.server, grpc::InsecureChannelCredentials()));
}

void AddAuth(grpc::ClientContext& ctx, const ScoringTarget& t) {
  if (!t.token.empty()) {
    ctx.AddMetadata("authorization", "Bearer " + t.token);
  }
}

absl::Status FillRequest(const ScoreOptions& o, sv1::Selector* selector,
                         google::protobuf::Timestamp* as_of) {
  selector->set_namespace_(o.ns);
  selector->set_model(o.model);
  if (!o.as_of.empty() && !google::protobuf::util::TimeUtil::FromString(o.as_of, as_of)) {
    return InvalidField("--as-of", "must be an RFC 3339 time such as 2026-11-01T12:00:00Z");
  }
  return absl::OkStatus();
}

std::string Name(const std::string& full) { return full.substr(full.rfind('/') + 1); }

const char* KindWord(sv1::Reason::Kind kind) {
  return kind == sv1::Reason::FIT          ? "fit"
         : kind == sv1::Reason::ENGAGEMENT ? "engagement"
         : kind == sv1::Reason::CAP        ? "cap"
                                           : "disqualifier";
}

// One reason, as `explain` and `score-account` print it.
void PrintReason(const sv1::Reason& r) {
  std::printf("    %+7.1f  %-11s %-14s %-20s %s%s%s%s\n", r.points(), KindWord(r.kind()),
              r.group().c_str(), r.rule().c_str(), r.description().c_str(),
              r.evidence().empty() ? "" : ("  [" + r.evidence() + "]").c_str(),
              r.detail().empty() ? "" : "  ", r.detail().c_str());
}

// A JSON file as `message` (a Lead, an Account); false after printing why not.
bool ReadJson(const std::string& file, google::protobuf::Message* message) {
  std::ifstream in(file);
  if (!in) {
    std::cerr << file << ": cannot be read\n";
    return false;
  }
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto parsed = google::protobuf::util::JsonStringToMessage(text, message);
  if (!parsed.ok()) {
    std::cerr << file << ": " << parsed.message() << "\n";
    return false;
  }
  return true;
}

// The client context of one call: the credential and the deadline.
void Prepare(grpc::ClientContext& ctx, const ScoringTarget& t) {
  AddAuth(ctx, t);
  ctx.set_deadline(std::chrono::system_clock::now() +
                   std::chrono::milliseconds(static_cast<int64_t>(t.timeout_seconds * 1000)));
}

}  // namespace

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
  auto stub = Stub(target);
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
                  << s.engagement() << "," << s.total() << "," << Name(s.persona().persona()) << ","
                  << s.journey_stage() << ",\"" << s.disqualification_reason() << "\"\n";
      } else if (leads->size() <= 60) {
        std::printf("%-12s %-13s %-5s %7.1f %10.1f %7.1f  %-16s %s\n", s.lead_id().c_str(),
                    s.level().c_str(), s.grade().c_str(), s.fit(), s.engagement(), s.total(),
                    Name(s.persona().persona()).c_str(), s.journey_stage().c_str());
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
  auto stub = Stub(target);
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
    std::printf("  Persona: %s (match %.0f%%)%s\n", Name(s.persona().persona()).c_str(),
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
  auto stub = Stub(target);
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
        Name(v.sla()).c_str(), v.commitment().c_str(), v.team().c_str(),
        static_cast<long long>(v.min_count()), v.level().c_str(),
        absl::AsciiStrToLower(registry::v1::Period_Name(v.period())).c_str(), v.level().c_str(),
        static_cast<long long>(v.reached_before()), static_cast<long long>(v.reached_after()));
  }
  return 0;
}

namespace {

const char* TypeName(registry::v1::AttributeField::Type type) {
  switch (type) {
    case registry::v1::AttributeField::STRING:
      return "a string";
    case registry::v1::AttributeField::NUMBER:
      return "a number";
    case registry::v1::AttributeField::BOOL:
      return "true or false";
    case registry::v1::AttributeField::LIST:
      return "a list";
    case registry::v1::AttributeField::STRUCT:
      return "a map";
    default:
      return "anything";
  }
}

registry::v1::AttributeField::Type TypeOf(const google::protobuf::Value& v) {
  switch (v.kind_case()) {
    case google::protobuf::Value::kStringValue:
      return registry::v1::AttributeField::STRING;
    case google::protobuf::Value::kNumberValue:
      return registry::v1::AttributeField::NUMBER;
    case google::protobuf::Value::kBoolValue:
      return registry::v1::AttributeField::BOOL;
    case google::protobuf::Value::kListValue:
      return registry::v1::AttributeField::LIST;
    case google::protobuf::Value::kStructValue:
      return registry::v1::AttributeField::STRUCT;
    default:
      return registry::v1::AttributeField::TYPE_UNSPECIFIED;
  }
}

// Checks every attribute under `s` (at `prefix`) against `fields`; problems go to `problems`.
void CheckAttributes(const google::protobuf::Struct& s, const std::string& prefix,
                     const std::map<std::string, registry::v1::AttributeField::Type>& fields,
                     std::vector<std::string>* problems) {
  for (const auto& [key, value] : s.fields()) {
    const std::string path = prefix.empty() ? key : absl::StrCat(prefix, ".", key);
    auto it = fields.find(path);
    if (it == fields.end()) {
      if (value.has_struct_value()) {
        CheckAttributes(value.struct_value(), path, fields, problems);
      } else {
        problems->push_back(absl::StrCat("attribute '", path, "' is not in the dictionary"));
      }
      continue;
    }
    const auto type = it->second;
    if (type != registry::v1::AttributeField::TYPE_UNSPECIFIED && !value.has_null_value() &&
        TypeOf(value) != type) {
      problems->push_back(absl::StrCat("attribute '", path, "' should be ", TypeName(type)));
    }
  }
}

}  // namespace

int CheckLeads(const std::string& leads_file,
               const std::vector<registry::v1::Definition>& definitions) {
  absl::StatusOr<std::vector<sv1::Lead>> leads = ReadLeads(leads_file);
  if (!leads.ok()) {
    std::cerr << leads.status().message() << "\n";
    return 1;
  }
  int problems = 0;
  int dictionaries = 0;
  for (const registry::v1::Definition& d : definitions) {
    if (!d.has_qualification_model() || d.qualification_model().fields_size() == 0) {
      continue;
    }
    ++dictionaries;
    std::map<std::string, registry::v1::AttributeField::Type> fields;
    for (const auto& f : d.qualification_model().fields()) {
      fields[f.path()] = f.type();
    }
    for (size_t i = 0; i < leads->size(); ++i) {
      std::vector<std::string> found;
      CheckAttributes((*leads)[i].attributes(), "", fields, &found);
      for (const std::string& problem : found) {
        std::cerr << leads_file << ": lead " << (*leads)[i].id() << " (#" << i + 1
                  << "): " << problem << " of " << d.name() << "\n";
        ++problems;
      }
    }
  }
  if (dictionaries == 0) {
    std::cerr << "no qualification model in the files has a field dictionary (fields)\n";
    return 1;
  }
  if (problems > 0) {
    std::cerr << problems << " problem(s) in " << leads->size() << " lead(s)\n";
    return 1;
  }
  std::cout << leads->size() << " lead(s) match the field dictionary\n";
  return 0;
}

// ------------------------------------------------------------------ accounts

namespace {

void PrintDefinitions(const google::protobuf::RepeatedPtrField<sv1::DefinitionRef>& refs) {
  std::vector<std::string> parts;
  for (const auto& d : refs) {
    parts.push_back(d.revision() > 0 ? absl::StrCat(Name(d.name()), " revision ", d.revision())
                                     : absl::StrCat(Name(d.name()), " (proposed)"));
  }
  std::printf("  using %s\n", absl::StrJoin(parts, ", ").c_str());
}

void PrintAccount(const sv1::AccountScore& s) {
  std::printf("Account %s, as of %s\n", s.account_id().c_str(),
              google::protobuf::util::TimeUtil::ToString(s.as_of()).c_str());
  PrintDefinitions(s.definitions());
  std::printf("\n  Level %s   Fit %.1f + Engagement %.1f = %.1f   Buying group %.0f%% covered\n",
              s.level().empty() ? "(none)" : s.level().c_str(), s.fit(), s.engagement(), s.total(),
              s.coverage() * 100);
  std::printf("\n  Account fit:\n");
  if (s.reasons().empty()) {
    std::printf("    no fit rule matched the account\n");
  }
  for (const sv1::Reason& r : s.reasons()) {
    PrintReason(r);
  }
  std::printf("\n  Buying group:\n");
  for (const sv1::RoleCoverage& r : s.roles()) {
    std::printf("    %-20s weight %-4g %s\n", r.role().c_str(), r.weight(),
                r.covered()
                    ? absl::StrCat("covered by ", absl::StrJoin(r.covered_by(), ", ")).c_str()
                    : "MISSING");
  }
  std::printf("\n  Members:\n");
  for (const sv1::MemberContribution& m : s.members()) {
    if (m.excluded() == "consent") {
      std::printf("    %-14s excluded: no consent to profiling (not scored)\n",
                  m.lead_id().c_str());
      continue;
    }
    std::printf("    %-14s %-12s %-3s value %7.1f  contributes %7.1f%s%s%s\n", m.lead_id().c_str(),
                m.level().empty() ? "(none)" : m.level().c_str(),
                m.grade().empty() ? "-" : m.grade().c_str(), m.value(), m.contribution(),
                m.excluded().empty() ? "" : absl::StrCat("  excluded: ", m.excluded()).c_str(),
                m.roles().empty() ? "" : "  plays ", absl::StrJoin(m.roles(), ", ").c_str());
  }
  if (s.excluded_for_consent() > 0) {
    std::printf("\n  %d member(s) excluded: their consent does not allow profiling\n",
                s.excluded_for_consent());
  }
}

const char* CauseWord(sv1::ScoreChangePart::Cause cause) {
  switch (cause) {
    case sv1::ScoreChangePart::DEFINITION:
      return "definition change";
    case sv1::ScoreChangePart::DATA:
      return "data change";
    default:
      return "passage of time";
  }
}

}  // namespace

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
  grpc::Status status = Stub(target)->ScoreAccount(&ctx, request, &s);
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
  grpc::Status status = Stub(target)->ExplainScoreChange(&ctx, request, &r);
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

}  // namespace accord::cli
