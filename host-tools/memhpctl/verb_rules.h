// memhpctl — the parts of the verb table (verb_table.cc) longer than a line: option values that
// need more than a number or a word, the words verbs take, and what a verb needs once parsed.
// Each returns "" or the usage error, which names the option or the verb.
#pragma once

#include <string>

#include "memhpctl/cli_args.h"
#include "memhpctl/verb_table.h"

namespace memhp::cli::rules {

// Global options.
[[nodiscard]] std::string ApplyVm(Command& c, const std::string& value);
[[nodiscard]] std::string ApplyStateRoot(Command& c, const std::string& value);

// Option values.
[[nodiscard]] std::string ApplyAgentArgs(Command& c, const std::string& value);  // launch
[[nodiscard]] std::string ApplyBlocks(Command& c, const std::string& value);     // online/offline
[[nodiscard]] std::string ApplyRange(Command& c, const std::string& value);      // online/offline
[[nodiscard]] std::string ApplyPlugId(Command& c, const std::string& value);     // plug --id
[[nodiscard]] std::string ApplyBlockColumns(Command& c, const std::string& value);  // blocks --output
[[nodiscard]] std::string ApplyBlockSplit(Command& c, const std::string& value);    // blocks --split

// Words.
[[nodiscard]] WordOutcome TakeUnplugId(Command& c, const std::string& word);
[[nodiscard]] WordOutcome TakeResizeId(Command& c, const std::string& word);
[[nodiscard]] WordOutcome TakeQmpWord(Command& c, const std::string& word);    // COMMAND, then ARGS
[[nodiscard]] WordOutcome TakeHelpTopic(Command& c, const std::string& word);  // help COMMAND
[[nodiscard]] WordOutcome TakeTimelineInput(Command& c, const std::string& word);
// scenario: the action (run, compare), then its files.
[[nodiscard]] WordOutcome TakeScenarioWord(Command& c, const std::string& word);

// Checks once every word was read.
[[nodiscard]] std::string CheckLaunch(const Command& c);
[[nodiscard]] std::string CheckAttach(const Command& c);
[[nodiscard]] std::string CheckQmp(const Command& c);
[[nodiscard]] std::string CheckSelection(const Command& c);  // online/offline
[[nodiscard]] std::string CheckPlug(const Command& c);
[[nodiscard]] std::string CheckUnplug(const Command& c);
[[nodiscard]] std::string CheckResize(const Command& c);
[[nodiscard]] WordOutcome TakeAutoscaleId(Command& c, const std::string& word);
[[nodiscard]] std::string CheckAutoscale(const Command& c);
[[nodiscard]] std::string CheckAudit(const Command& c);
[[nodiscard]] std::string CheckTimeline(const Command& c);
[[nodiscard]] std::string CheckScenario(const Command& c);

}  // namespace memhp::cli::rules
