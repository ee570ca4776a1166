// memhpctl — the one JSON envelope every --json answer has (docs/cli-json.md), success, failure
// and usage error alike:
//
//   {"ok": true|false, "exit_code": N, "error": null|"why", "result": {...}|[...]|null}
//
// ok is exit_code == 0; error says why when it is not (memhpd's, QEMU's or memhpctl's words,
// or an operation's headline); result is the verb's answer (null when there is none: a usage
// error, memhpd unreachable). Pure: builds text, prints nothing.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace memhp::cli {

// The envelope around `result_json` (one JSON value; "" for null). A result that does not
// parse (a peer's broken JSON passed through) is kept as {"unparsed": "<text>"}, so the
// envelope stays one valid JSON object. One line, ending in "\n".
[[nodiscard]] std::string JsonEnvelope(int exit_code, std::string_view error, std::string_view result_json);

// Whether a command line asks for JSON (--json, or -j/-J alone or bundled, before any `--`), read
// without parsing it: a usage error is answered in JSON too, though the line did not parse.
[[nodiscard]] bool WantsJson(const std::vector<std::string>& args);

}  // namespace memhp::cli
