// terminal_text — what memhpctl prints, made safe for an operator's terminal.
//
// Strings that came from the guest (vetoer names, hook reasons, kernel release, device ids the
// agent reports) or from QEMU (versions, error descriptions, device types) are untrusted: a
// guest that writes ESC [ 2 J into a veto reason must not clear the operator's screen, retitle
// the window (OSC), or reorder the line with bidirectional controls. These functions turn every
// such character into visible text; what is left is printable UTF-8. They are idempotent:
// escaping twice gives the same text as escaping once (a backslash is never itself escaped).
#pragma once

#include <string>
#include <string_view>

namespace memhp::ctl {

// Whether a newline is kept (a multi-line text: a console tail, a whole table) or escaped (one
// field that must stay on its line).
enum class Newlines { kKeep, kEscape };

// Text for people: C0 controls (tab, and newline when kept, excepted) and DEL become "\x1b",
// C1 controls (U+0080..U+009F, which some terminals obey as CSI/OSC), the bidirectional
// controls (U+061C, U+200E/F, U+202A..U+202E, U+2066..U+2069) and the line/paragraph
// separators (U+2028/9) become "\u202e", and each byte that is not UTF-8 becomes "\xff".
[[nodiscard]] std::string EscapeForTerminal(std::string_view text, Newlines newlines);

// JSON text, still valid JSON: the characters above become \u escapes (DEL \u007f, C1 \u009b,
// bidi \u202e; a raw C0 control other than newline \u001b) and each byte that is not UTF-8
// becomes \ufffd (the replacement character), so a terminal showing `memhpctl watch` is as safe
// as one showing text. Every JSON generator memhpctl uses escapes C0 inside strings already.
[[nodiscard]] std::string EscapeJsonForTerminal(std::string_view json);

}  // namespace memhp::ctl
