// accordctl: definitions as code, the review workflow, watching the registry and scoring files
// of leads. One file per command group in commands/ (as etcdctl's ctlv3/command/), printers
// in print.cc.
#include <cstdlib>

#include "CLI/CLI.hpp"
#include "cli/commands/commands.h"

int main(int argc, char** argv) {
  accord::cli::Globals g;
  if (const char* s = std::getenv("ACCORD_SERVER")) {
    g.server = s;
  }
  if (const char* t = std::getenv("ACCORD_TOKEN")) {
    g.token = t;
  }
  if (const char* s = std::getenv("ACCORD_SCORING_SERVER")) {
    g.scoring_server = s;
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
  app.add_option("--scoring-server", g.scoring_server,
                 "scoring service HOST:PORT (env ACCORD_SCORING_SERVER; default --server)");

  int exit_code = 0;
  accord::cli::AddDefinitionCommands(app, g, exit_code);
  accord::cli::AddReviewCommands(app, g, exit_code);
  accord::cli::AddHistoryCommands(app, g, exit_code);
  accord::cli::AddScoreCommands(app, g, exit_code);
  accord::cli::AddAccountCommands(app, g, exit_code);
  accord::cli::AddFeedbackCommands(app, g, exit_code);
  CLI11_PARSE(app, argc, argv);
  return exit_code;
}
