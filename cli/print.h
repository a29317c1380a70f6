#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "cli/common.h"
#include "google/protobuf/message.h"

// accordctl's printers: tables for people, YAML or JSON for scripts (-o).
namespace accord::cli {

std::string Json(const google::protobuf::Message& m);
std::string JsonLine(const google::protobuf::Message& m);
// As -o asks: yaml (also for table where no table exists), json or jsonl.
void Print(const Globals& g, const google::protobuf::Message& m);

std::string ShortKind(v1::DefinitionKind k);
void PrintDefinitionRow(const v1::Definition& d);
void PrintRevisionRow(const v1::Revision& r);
void PrintAuditRow(const v1::AuditEvent& e);
// One change of a DiffDefinition, as a line: "~ MQL needs fit >= 45 (was 40)  [tightens]".
void PrintChange(const v1::DefinitionChange& change);

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

const char* KindWord(sv1::Reason::Kind kind);
// One reason, as `explain` and `score-account` print it.
void PrintReason(const sv1::Reason& r);
void PrintDefinitions(const google::protobuf::RepeatedPtrField<sv1::DefinitionRef>& refs);
void PrintAccount(const sv1::AccountScore& s);
const char* CauseWord(sv1::ScoreChangePart::Cause cause);

}  // namespace accord::cli
