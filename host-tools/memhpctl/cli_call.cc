// memhpctl — see cli_call.h.
#include "memhpctl/cli_call.h"

#include <json-glib/json-glib.h>

#include <cstdarg>
#include <cstdio>

#include "ctl/operation_view.h"
#include "ctl/terminal_text.h"
#include "memhpctl/json_envelope.h"

namespace memhp::cli {

vm::StateDir StateOf(const Command& command) {
  const std::string root =
      command.global.state_root.empty() ? vm::DefaultStateRoot() : command.global.state_root;
  return vm::StateDir::ForVm(root, command.global.vm);
}

std::string JsonString(std::string_view text) {
  // json-glib escapes for JSON; g_strescape would write octal escapes for UTF-8 (e.g. "—"),
  // which is not JSON.
  g_autoptr(JsonNode) node = json_node_new(JSON_NODE_VALUE);
  json_node_set_string(node, std::string(text).c_str());
  g_autoptr(JsonGenerator) generator = json_generator_new();
  json_generator_set_root(generator, node);
  g_autofree gchar* out = json_generator_to_data(generator, nullptr);
  return out;
}

int Fail(const Command& command, int code, const std::string& message) {
  if (command.global.json) {
    std::fputs(ctl::EscapeJsonForTerminal(JsonEnvelope(code, message, "")).c_str(), stdout);
  } else {
    std::fprintf(stderr, "memhpctl: %s\n", ctl::EscapeForTerminal(message, ctl::Newlines::kKeep).c_str());
  }
  return code;
}

std::string FormatText(const char* format, ...) {
  va_list args;
  va_start(args, format);
  g_autofree gchar* text = g_strdup_vprintf(format, args);
  va_end(args);
  return text;
}

int PrintAnswer(const Command& command, int code, std::string_view text, std::string_view json,
                std::string_view error) {
  if (command.global.json) {
    std::fputs(ctl::EscapeJsonForTerminal(JsonEnvelope(code, error, json)).c_str(), stdout);
  } else if (!command.global.quiet) {
    std::fputs(ctl::EscapeForTerminal(text, ctl::Newlines::kKeep).c_str(), stdout);
  }
  return code;
}

int CallMemhpd(const Command& command, memhp::v1::ControlRequest request, std::chrono::milliseconds timeout,
               memhp::v1::ControlResponse* response, const ControlClient::ProgressFn& on_progress,
               const std::function<void()>& on_answer) {
  ControlClient client(StateOf(command).control_socket());
  CallResult result = client.Call(std::move(request), timeout, on_progress);
  if (on_answer) on_answer();
  if (!result.ok()) {
    return Fail(command, result.error().code == memhp::v1::ERROR_CODE_TIMEOUT ? kExitTimeout : kExitFailed,
                "VM '" + command.global.vm + "': " + result.error().message);
  }
  if (result.value().has_error()) {
    const memhp::v1::Error& error = result.value().error();
    return Fail(command, ctl::ErrorExitCode(error.code()), error.message());
  }
  *response = std::move(result).value();
  return kExitOk;
}

}  // namespace memhp::cli
