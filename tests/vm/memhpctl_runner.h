// memhp vm tests — running the real memhpctl against a real VM, and reading its JSON.
//
// The vm suite drives memhp the way an operator or a script does: the memhpctl binary, its
// exit codes, its --json output. Each test binary keeps its VMs in its own temp state root, so
// suites never see each other's VMs, and removes them (stopping any QEMU) when it ends.
#pragma once

#include <json-glib/json-glib.h>

#include <memory>
#include <string>
#include <vector>

namespace memhp::vmtest {

struct CliRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// memhpctl (from $MEMHPCTL) with `--state-root <root>` prepended.
class Memhpctl {
 public:
  explicit Memhpctl(std::string state_root);
  [[nodiscard]] CliRun Run(const std::vector<std::string>& args) const;
  [[nodiscard]] const std::string& state_root() const { return state_root_; }

 private:
  std::string binary_;
  std::string state_root_;
};

// A parsed JSON document that owns its parser.
class Json {
 public:
  explicit Json(const std::string& text);
  [[nodiscard]] bool ok() const { return root_ != nullptr; }
  [[nodiscard]] JsonNode* root() const { return root_; }
  // Follows a path such as "agent.hello.guest.block_size_bytes" or "summary.nodes.1.node";
  // nullptr when any step is missing.
  [[nodiscard]] JsonNode* At(const std::string& path) const;
  [[nodiscard]] std::string String(const std::string& path) const;  // "" when missing
  [[nodiscard]] int64_t Int(const std::string& path) const;         // -1 when missing
  [[nodiscard]] bool Bool(const std::string& path) const;
  [[nodiscard]] size_t Length(const std::string& path) const;       // array length, 0 if none

 private:
  friend Json ResultOf(const std::string& out);
  Json(std::shared_ptr<JsonParser> parser, JsonNode* root) : parser_(std::move(parser)), root_(root) {}

  std::shared_ptr<JsonParser> parser_;
  JsonNode* root_ = nullptr;
};

// The "result" of memhpctl's --json answer (its envelope, docs/cli-json.md), after checking the
// envelope: ok, exit_code and error are there and agree. Not ok() when `out` is no envelope.
[[nodiscard]] Json ResultOf(const std::string& out);
// The same, also checking that the envelope's exit_code is the one memhpctl exited with.
[[nodiscard]] Json ResultOf(const CliRun& run);

// A fresh temp folder for a test binary's VMs ("/tmp/memhp-vmtest-XXXXXX").
[[nodiscard]] std::string MakeStateRoot();

// Whether a process with this pid exists (and is not a zombie).
[[nodiscard]] bool PidAlive(long pid);

}  // namespace memhp::vmtest
