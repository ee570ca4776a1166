// proto_json (see proto_json.h).
#include "wire/proto_json.h"

#include <google/protobuf/util/json_util.h>

namespace memhp::wire {

std::string ProtoToJson(const google::protobuf::Message& message) {
  std::string out;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  if (!google::protobuf::util::MessageToJsonString(message, &out, options).ok()) return "{}";
  return out;
}

}  // namespace memhp::wire
