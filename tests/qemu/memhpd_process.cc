// memhpd_process — see memhpd_process.h.
#include "memhpd_process.h"

#include <fcntl.h>
#include <glib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

namespace memhp::qemu_test {

std::unique_ptr<MemhpdProcess> MemhpdProcess::Start(const std::string& state_dir, std::chrono::milliseconds timeout,
                                                    std::string* error, const std::vector<std::string>& env) {
  std::unique_ptr<MemhpdProcess> process(new MemhpdProcess());
  process->state_dir_ = state_dir;
  const char* binary = g_getenv("MEMHPD");
  std::vector<std::string> args{binary ? binary : "memhpd", "--state-dir", state_dir, "--name", "qemu-test"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  gchar** envp = g_get_environ();
  for (const auto& kv : env) {
    const size_t eq = kv.find('=');
    envp = g_environ_setenv(envp, kv.substr(0, eq).c_str(), kv.substr(eq + 1).c_str(), TRUE);
  }
  const std::string log_path = state_dir + "/memhpd.log";
  const int log_fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  GPid pid = -1;
  gint out_fd = -1;
  GError* gerror = nullptr;
  const gboolean spawned = g_spawn_async_with_pipes_and_fds(
      state_dir.c_str(), argv.data(), envp,
      static_cast<GSpawnFlags>(G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDIN_FROM_DEV_NULL), nullptr, nullptr, -1, -1,
      log_fd, nullptr, nullptr, 0, &pid, nullptr, &out_fd, nullptr, &gerror);
  g_strfreev(envp);
  if (log_fd >= 0) close(log_fd);
  if (!spawned) {
    *error = std::string("spawn memhpd: ") + gerror->message;
    g_error_free(gerror);
    return nullptr;
  }
  process->pid_ = pid;
  // "ready\n" on stdout; EOF without it means memhpd gave up (memhpd.log says why).
  std::string got;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  fcntl(out_fd, F_SETFL, O_NONBLOCK);
  while (got.find("ready\n") == std::string::npos) {
    char buffer[64];
    const ssize_t n = read(out_fd, buffer, sizeof(buffer));
    if (n > 0) {
      got.append(buffer, static_cast<size_t>(n));
      continue;
    }
    if (n == 0 || std::chrono::steady_clock::now() > deadline) {
      close(out_fd);
      *error = "memhpd did not become ready: " + process->Log();
      return nullptr;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  close(out_fd);
  return process;
}

void MemhpdProcess::Stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  for (int i = 0; i < 100; ++i) {
    if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

MemhpdProcess::~MemhpdProcess() { Stop(); }

std::string MemhpdProcess::Log() const {
  std::ifstream in(state_dir_ + "/memhpd.log");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace memhp::qemu_test
