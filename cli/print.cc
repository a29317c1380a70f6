#include "cli/print.h"

#include <cstdio>
#include <iostream>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"

#include "definitions/loader.h"

namespace accord::cli {
const char* KindWord(sv1::Reason::Kind kind) {
  return kind == sv1::Reason::FIT          ? "fit"
         : kind == sv1::Reason::ENGAGEMENT ? "engagement"
         : kind == sv1::Reason::CAP        ? "cap"
                                           : "disqualifier";
}

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
    std::cout << definitions::ToYaml(m);
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

void PrintReason(const sv1::Reason& r) {
  std::printf("    %+7.1f  %-11s %-14s %-20s %s%s%s%s\n", r.points(), KindWord(r.kind()),
              r.group().c_str(), r.rule().c_str(), r.description().c_str(),
              r.evidence().empty() ? "" : ("  [" + r.evidence() + "]").c_str(),
              r.detail().empty() ? "" : "  ", r.detail().c_str());
}

void PrintDefinitions(const google::protobuf::RepeatedPtrField<sv1::DefinitionRef>& refs) {
  std::vector<std::string> parts;
  for (const auto& d : refs) {
    parts.push_back(d.revision() > 0 ? absl::StrCat(ShortName(d.name()), " revision ", d.revision())
                                     : absl::StrCat(ShortName(d.name()), " (proposed)"));
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

}  // namespace accord::cli
