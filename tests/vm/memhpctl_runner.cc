// memhp vm tests — running memhpctl and reading its JSON (see memhpctl_runner.h).
#include "memhpctl_runner.h"

#include "vm/state_dir.h"

#include <glib.h>
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <cstdlib>

namespace memhp::vmtest {

Memhpctl::Memhpctl(std::string state_root) : state_root_(std::move(state_root)) {
  const char* env = std::getenv("MEMHPCTL");
  binary_ = env ? env : "memhpctl";
}

CliRun Memhpctl::Run(const std::vector<std::string>& args) const {
  std::vector<std::string> argv = {binary_, "--state-root", state_root_};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> c_argv;
  for (const std::string& a : argv) c_argv.push_back(const_cast<char*>(a.c_str()));
  c_argv.push_back(nullptr);
  CliRun run;
  gchar* out = nullptr;
  gchar* err = nullptr;
  gint status = 0;
  GError* error = nullptr;
  if (!g_spawn_sync(nullptr, c_argv.data(), nullptr, G_SPAWN_DEFAULT, nullptr, nullptr, &out, &err,
                    &status, &error)) {
    run.err = error->message;
    g_error_free(error);
    return run;
  }
  run.out = out ? out : "";
  run.err = err ? err : "";
  g_free(out);
  g_free(err);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

Json::Json(const std::string& text) : parser_(json_parser_new(), g_object_unref) {
  if (json_parser_load_from_data(parser_.get(), text.c_str(), static_cast<gssize>(text.size()), nullptr)) {
    root_ = json_parser_get_root(parser_.get());
  }
}

Json ResultOf(const std::string& out) {
  Json envelope(out);
  JsonNode* root = envelope.root();
  if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
    ADD_FAILURE() << "not a memhpctl JSON envelope: " << out;
    return Json(envelope.parser_, nullptr);
  }
  JsonObject* o = json_node_get_object(root);
  const bool complete = json_object_has_member(o, "ok") && json_object_has_member(o, "exit_code") &&
                        json_object_has_member(o, "error") && json_object_has_member(o, "result");
  EXPECT_TRUE(complete) << "the envelope has ok, exit_code, error and result: " << out;
  if (!complete) return Json(envelope.parser_, nullptr);
  const bool ok = json_object_get_boolean_member(o, "ok");
  EXPECT_EQ(ok, json_object_get_int_member(o, "exit_code") == 0) << out;
  EXPECT_EQ(ok, json_object_get_null_member(o, "error")) << out;
  JsonNode* result = json_object_get_member(o, "result");
  return Json(envelope.parser_, JSON_NODE_HOLDS_NULL(result) ? nullptr : result);
}

Json ResultOf(const CliRun& run) {
  Json envelope(run.out);
  if (envelope.ok() && JSON_NODE_HOLDS_OBJECT(envelope.root())) {
    EXPECT_EQ(envelope.Int("exit_code"), run.exit_code) << run.out << run.err;
  }
  return ResultOf(run.out);
}

JsonNode* Json::At(const std::string& path) const {
  JsonNode* node = root_;
  gchar** parts = g_strsplit(path.c_str(), ".", -1);
  for (gchar** p = parts; node && *p; ++p) {
    if (JSON_NODE_HOLDS_OBJECT(node)) {
      JsonObject* object = json_node_get_object(node);
      node = json_object_has_member(object, *p) ? json_object_get_member(object, *p) : nullptr;
    } else if (JSON_NODE_HOLDS_ARRAY(node)) {
      JsonArray* array = json_node_get_array(node);
      const guint64 index = g_ascii_strtoull(*p, nullptr, 10);
      node = index < json_array_get_length(array) ? json_array_get_element(array, static_cast<guint>(index)) : nullptr;
    } else {
      node = nullptr;
    }
  }
  g_strfreev(parts);
  return node;
}

std::string Json::String(const std::string& path) const {
  JsonNode* node = At(path);
  if (!node || !JSON_NODE_HOLDS_VALUE(node)) return "";
  if (json_node_get_value_type(node) == G_TYPE_STRING) return json_node_get_string(node);
  if (json_node_get_value_type(node) == G_TYPE_INT64) return std::to_string(json_node_get_int(node));
  return "";
}

int64_t Json::Int(const std::string& path) const {
  JsonNode* node = At(path);
  if (!node || !JSON_NODE_HOLDS_VALUE(node)) return -1;
  if (json_node_get_value_type(node) == G_TYPE_INT64) return json_node_get_int(node);
  if (json_node_get_value_type(node) == G_TYPE_STRING) return g_ascii_strtoll(json_node_get_string(node), nullptr, 10);
  return -1;
}

bool Json::Bool(const std::string& path) const {
  JsonNode* node = At(path);
  return node && JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == G_TYPE_BOOLEAN &&
         json_node_get_boolean(node);
}

size_t Json::Length(const std::string& path) const {
  JsonNode* node = At(path);
  return node && JSON_NODE_HOLDS_ARRAY(node) ? json_array_get_length(json_node_get_array(node)) : 0;
}

std::string MakeStateRoot() {
  g_autofree gchar* dir = g_dir_make_tmp("memhp-vmtest-XXXXXX", nullptr);
  return dir ? dir : "";
}

bool PidAlive(long pid) { return vm::PidAlive(pid); }

}  // namespace memhp::vmtest
