#pragma once

#include "CLI/CLI.hpp"
#include "cli/common.h"

// accordctl's command groups, one file each (as etcdctl's ctlv3/command/): each adds its
// subcommands to the app; a subcommand's callback runs it and sets `exit_code` (0 ok, 1 the
// server or the input said no).
namespace accord::cli {

// validate, apply, get, list, diff, delete, undelete
void AddDefinitionCommands(CLI::App& app, const Globals& g, int& exit_code);
// propose, approve, reject, publish, rollback
void AddReviewCommands(CLI::App& app, const Globals& g, int& exit_code);
// history, audit, watch
void AddHistoryCommands(CLI::App& app, const Globals& g, int& exit_code);
// score, explain, preview
void AddScoreCommands(CLI::App& app, const Globals& g, int& exit_code);
// score-account, explain-change
void AddAccountCommands(CLI::App& app, const Globals& g, int& exit_code);
// feedback record|report|list|erase
void AddFeedbackCommands(CLI::App& app, const Globals& g, int& exit_code);

// Checks each lead of `leads_file` (.jsonl or .csv) against the field dictionary of every
// qualification model in `definitions` that has one: attributes it does not name, values of
// another type. Exit codes: 0 every lead matches, 1 problems (listed on stderr).
int CheckLeads(const std::string& leads_file, const std::vector<v1::Definition>& definitions);

}  // namespace accord::cli
