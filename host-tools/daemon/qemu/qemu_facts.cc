// qemu_facts — see qemu_facts.h.
#include "daemon/qemu/qemu_facts.h"

#include <cstdint>
#include <cstdlib>

#include "qmp/qmp_json.h"

namespace memhp::daemon::qemu {

Result<MachineMemory> ParseMachineMemory(const JsonNode& value) {
  JsonObject* object = qmp::AsObject(&value);
  if (object == nullptr) return Error::Invalid("/machine memory is not an object");
  const auto size = qmp::GetUint(object, "size");
  const auto slots = qmp::GetUint(object, "slots");
  const auto max_size = qmp::GetUint(object, "max-size");
  if (!size || !slots || !max_size) {
    return Error::Invalid("/machine memory lacks size, slots or max-size");
  }
  return MachineMemory{*size, static_cast<uint32_t>(*slots), *max_size};
}

std::optional<uint32_t> ParseInfoNumaNodeCount(const std::string& text) {
  const size_t pos = text.find(" nodes");
  if (pos == std::string::npos || pos == 0) return std::nullopt;
  size_t start = pos;
  while (start > 0 && text[start - 1] >= '0' && text[start - 1] <= '9') --start;
  if (start == pos || start != 0) return std::nullopt;  // "<N> nodes" opens the text
  // QEMU caps NUMA nodes at MAX_NODES (128); a count that does not even fit 32 bits is not a
  // count (it would otherwise wrap to a small one, e.g. 4294967297 to 1).
  if (pos > 10) return std::nullopt;
  const unsigned long long n = std::strtoull(text.substr(0, pos).c_str(), nullptr, 10);
  if (n > UINT32_MAX) return std::nullopt;
  return static_cast<uint32_t>(n);
}

std::vector<std::string> ParseQomChildren(const JsonNode& value) {
  std::vector<std::string> names;
  JsonArray* array = qmp::AsArray(&value);
  if (array == nullptr) return names;
  const guint n = json_array_get_length(array);
  for (guint i = 0; i < n && i < 4096; ++i) {
    JsonObject* entry = qmp::AsObject(json_array_get_element(array, i));
    const auto name = qmp::GetString(entry, "name");
    const auto type = qmp::GetString(entry, "type");
    if (name && type && type->rfind("child<", 0) == 0) names.push_back(*name);
  }
  return names;
}

}  // namespace memhp::daemon::qemu
