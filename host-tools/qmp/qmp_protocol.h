// qmp_protocol — what one line from QEMU's QMP monitor means. Pure: no I/O, no state.
//
// QEMU's monitor writes one JSON object per line, terminated by "\r\n" (docs/interop/qmp-spec):
//   greeting  {"QMP": {"version": {"qemu": {"major", "minor", "micro"}, "package"},
//                      "capabilities": [...]}}
//   success   {"return": <any>, "id": <echoed>}
//   error     {"error": {"class": "GenericError", "desc": "..."}, "id": <echoed>}
//   event     {"event": "NAME", "data": {...}, "timestamp": {"seconds", "microseconds"}}
// "id" is echoed verbatim and absent when the command carried none, or when QEMU could not
// parse the command at all (then it answers {"error": ...} with no id). Anything else — not
// JSON, not an object, none or several of the four members, members of the wrong type — is
// Malformed, with the reason.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "qmp/qmp_json.h"

namespace memhp::qmp {

struct QemuVersion {
  int64_t major = 0;
  int64_t minor = 0;
  int64_t micro = 0;
  std::string package;  // e.g. "Debian 1:7.2+dfsg-7+deb12u18+b3"; may be empty
};

// "7.2.22"
[[nodiscard]] std::string FormatVersion(const QemuVersion& version);

struct Greeting {
  QemuVersion version;
  std::vector<std::string> capabilities;  // e.g. {"oob"}
};

struct Return {
  // The echoed id when it is a JSON integer (the client only sends integers); nullopt when
  // absent or of any other type — which, for the client, is an id it never sent.
  std::optional<int64_t> id;
  JsonNodePtr value;  // never null
};

struct Error {
  std::optional<int64_t> id;  // as in Return
  std::string error_class;    // QMP "class", verbatim (GenericError, DeviceNotFound, ...)
  std::string desc;           // QMP "desc", verbatim
};

struct Timestamp {
  // QEMU sends -1/-1 when it could not read the clock.
  int64_t seconds = 0;
  int64_t microseconds = 0;
};

struct Event {
  std::string name;
  JsonNodePtr data;  // never null: an empty object when QEMU sent no "data" (e.g. STOP)
  Timestamp timestamp;
};

struct Malformed {
  std::string reason;
  // The integer "id" when the line was an object that carried one: a reply QEMU got wrong,
  // which fails the command it answers instead of leaving it to time out.
  std::optional<int64_t> id;
};

using Message = std::variant<Greeting, Return, Error, Event, Malformed>;

// Classifies one line (trailing "\r\n" allowed). A line over `limits` is Malformed without
// being parsed (json_limits.h).
[[nodiscard]] Message ClassifyLine(std::string_view line, const JsonLimits& limits = JsonLimits{});

// Classifies an already parsed JSON value.
[[nodiscard]] Message ClassifyNode(const JsonNode& node);

}  // namespace memhp::qmp
