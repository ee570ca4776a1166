// memhp vm tests — a memhpctl running in the background (a `watch`), its stdout going to a
// file that the test reads while it runs; killed when destroyed if still running.
#pragma once

#include <fcntl.h>
#include <glib.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace memhp::vmtest {

class Background {
 public:
  Background(const std::string& state_root, std::vector<std::string> args, std::string out_path)
      : out_path_(std::move(out_path)) {
    const char* env = std::getenv("MEMHPCTL");
    std::vector<std::string> argv = {env ? env : "memhpctl", "--state-root", state_root};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> c_argv;
    for (std::string& a : argv) c_argv.push_back(a.data());
    c_argv.push_back(nullptr);
    const int out_fd = open(out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    EXPECT_GE(out_fd, 0);
    GError* error = nullptr;
    if (!g_spawn_async_with_fds(nullptr, c_argv.data(), nullptr, G_SPAWN_DO_NOT_REAP_CHILD, nullptr, nullptr, &pid_,
                                -1, out_fd, -1, &error)) {
      ADD_FAILURE() << "spawn memhpctl: " << error->message;
      g_error_free(error);
      pid_ = 0;
    }
    close(out_fd);
  }
  ~Background() {
    if (pid_ > 0 && exit_code_ < 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }

  [[nodiscard]] std::string Output() const {
    gchar* text = nullptr;
    if (!g_file_get_contents(out_path_.c_str(), &text, nullptr, nullptr)) return "";
    std::string out = text;
    g_free(text);
    return out;
  }
  [[nodiscard]] std::vector<std::string> Lines() const {
    std::vector<std::string> lines;
    gchar** parts = g_strsplit(Output().c_str(), "\n", -1);
    for (gchar** p = parts; *p; ++p) {
      if (**p) lines.emplace_back(*p);
    }
    g_strfreev(parts);
    return lines;
  }
  [[nodiscard]] bool Running() {
    if (pid_ <= 0 || exit_code_ >= 0) return false;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) != pid_) return true;
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return false;
  }
  // Waits up to `seconds` for it to end; its exit code, or -1 if it is still running.
  int Wait(int seconds) {
    for (int i = 0; i < seconds * 10 && Running(); ++i) g_usleep(100'000);
    return Running() ? -1 : exit_code_;
  }
  void Signal(int sig) const {
    if (pid_ > 0 && exit_code_ < 0) kill(pid_, sig);
  }
  // Polls the output until `done(lines)` holds or `seconds` pass.
  bool WaitFor(int seconds, const std::function<bool(const std::vector<std::string>&)>& done) const {
    for (int i = 0; i < seconds * 10; ++i) {
      if (done(Lines())) return true;
      g_usleep(100'000);
    }
    return done(Lines());
  }

 private:
  std::string out_path_;
  GPid pid_ = 0;
  int exit_code_ = -1;
};

}  // namespace memhp::vmtest
