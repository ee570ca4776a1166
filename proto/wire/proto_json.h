// proto_json — one way to print a protobuf message as JSON for scripts: memhpctl's --json and
// memhpd's watch stream print the same mapping.
//
// protobuf's proto3 JSON mapping with the .proto's snake_case field names (so a script reads the
// same names the .proto documents), every scalar printed even at its default (a script need not
// know proto3's "absent means zero"), enums as their names. As that mapping documents, 64-bit
// integers (uint64 sizes and addresses) are JSON *strings*: "268435456".
#pragma once

#include <string>

#include <google/protobuf/message.h>

namespace memhp::wire {

// The message as one JSON object on one line (no trailing newline); "{}" if protobuf refuses.
[[nodiscard]] std::string ProtoToJson(const google::protobuf::Message& message);

}  // namespace memhp::wire
