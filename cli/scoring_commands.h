#pragma once

#include <string>

// accordctl's scoring commands: `score` (a file of leads through StreamScoreLeads) and
// `explain` (one lead, every reason, for a sales rep).
namespace accord::cli {

struct ScoringTarget {
  std::string server;  // HOST:PORT of the scoring service or the gateway
  std::string token;
  double timeout_seconds = 10;
};

struct ScoreOptions {
  std::string file;      // .jsonl (one Lead as JSON per line) or .csv (dotted column names)
  std::string model;     // "" = the namespace's only model
  std::string ns = "default";
  std::string as_of;     // RFC 3339; "" = now
  std::string output = "table";  // table, jsonl, csv
};

// Exit codes: 0 ok, 1 refused (error on stderr, with file:line for bad input).
int ScoreFile(const ScoringTarget& target, const ScoreOptions& options);
int Explain(const ScoringTarget& target, const ScoreOptions& options);

}  // namespace accord::cli
