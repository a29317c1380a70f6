#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "accord/registry/v1/definition.pb.h"

// accordctl's scoring commands: `score` (a file of leads through StreamScoreLeads), `explain`
// (one lead, every reason, for a sales rep), `preview`, `score-account` and `explain-change`.
namespace accord::cli {

struct ScoringTarget {
  std::string server;  // HOST:PORT of the scoring service or the gateway
  std::string token;
  double timeout_seconds = 10;
};

struct ScoreOptions {
  std::string file;   // .jsonl (one Lead as JSON per line) or .csv (dotted column names)
  std::string model;  // "" = the namespace's only model
  std::string ns = "default";
  std::string as_of;             // RFC 3339; "" = now
  std::string output = "table";  // table, jsonl, csv
  std::string account_model;     // "" = the namespace's only account model
};

struct ExplainOptions {
  ScoreOptions scoring;       // namespace, model or account model, as_of (the first moment)
  std::string before, after;  // JSON files: a Lead each, or an Account each (`account`)
  bool account = false;
  std::string as_of_after;                          // RFC 3339; "" = the first moment
  int64_t revision_before = 0, revision_after = 0;  // 0: the published revision
};

// `score-account`: one account (a JSON file: id, attributes, members) with the account model.
int ScoreAccountFile(const ScoringTarget& target, const ScoreOptions& options);
// `explain-change`: why a lead's (or account's) score changed between two moments.
int ExplainChange(const ScoringTarget& target, const ExplainOptions& options);

// Exit codes: 0 ok, 1 refused (error on stderr, with file:line for bad input).
int ScoreFile(const ScoringTarget& target, const ScoreOptions& options);
int Explain(const ScoringTarget& target, const ScoreOptions& options);

// Scores the file with the published definitions and with `proposed` in its place, and prints
// counts per level and grade before/after, the leads that change level, and how many leads of
// the file reach the level of each volume commitment of the SLAs on the model, before/after.
int Preview(const ScoringTarget& target, const ScoreOptions& options,
            const registry::v1::Definition& proposed);

// Checks each lead of `leads_file` (.jsonl or .csv) against the field dictionary of every
// qualification model in `definitions` that has one: attributes it does not name, values of
// another type. Exit codes: 0 every lead matches, 1 problems (listed on stderr).
int CheckLeads(const std::string& leads_file,
               const std::vector<registry::v1::Definition>& definitions);

}  // namespace accord::cli
