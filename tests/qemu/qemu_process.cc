// qemu_process — spawning, watching and reaping a test QEMU (see qemu_process.h).
#include "qemu_process.h"

#include <fcntl.h>
#include <glib.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>
#include <thread>

namespace memhp::qemu_test {
namespace {

using namespace std::chrono_literals;

constexpr auto kPoll = 10ms;

// /proc/net/unix lists every unix socket; a listening one has the __SO_ACCEPTCON flag
// (00010000) in its Flags column and its path last. Checking there, rather than connecting,
// leaves QEMU's only QMP client slot to the test.
bool IsListening(const std::string& path) {
  std::ifstream in("/proc/net/unix");
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string num, refcount, protocol, flags, type, st, inode, name;
    fields >> num >> refcount >> protocol >> flags >> type >> st >> inode >> name;
    if (name == path && flags == "00010000") return true;
  }
  return false;
}

QemuExit Decode(int status) {
  if (WIFEXITED(status)) return QemuExit{true, WEXITSTATUS(status)};
  return QemuExit{false, WIFSIGNALED(status) ? WTERMSIG(status) : 0};
}

void DieWithParent(gpointer) {
  // Between fork and exec: only async-signal-safe calls.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
}

}  // namespace

std::vector<std::string> BaseQemuArgs() {
  return {
      "-machine", "q35",
      "-accel",   "tcg",
      "-S",       "-display",
      "none",     "-nodefaults",
      "-m",       "512M,slots=4,maxmem=8G",
      "-object",  "memory-backend-ram,id=m0,size=256M",
      "-object",  "memory-backend-ram,id=m1,size=256M",
      "-numa",    "node,nodeid=0,memdev=m0",
      "-numa",    "node,nodeid=1,memdev=m1",
      "-object",  "memory-backend-ram,id=vmem0,size=2G,reserve=off",
      "-device",  "virtio-mem-pci,id=vm0,memdev=vmem0,node=1,requested-size=0,block-size=2M",
  };
}

std::unique_ptr<QemuProcess> QemuProcess::Start(const std::vector<std::string>& args,
                                                std::chrono::milliseconds timeout,
                                                std::string* error) {
  std::unique_ptr<QemuProcess> process(new QemuProcess());
  GError* gerror = nullptr;
  char* dir = g_dir_make_tmp("memhp-qemu-XXXXXX", &gerror);
  if (dir == nullptr) {
    *error = std::string("temp dir: ") + gerror->message;
    g_error_free(gerror);
    return nullptr;
  }
  process->dir_ = dir;
  g_free(dir);
  process->qmp_path_ = process->dir_ + "/qmp.sock";
  process->log_path_ = process->dir_ + "/qemu.log";

  const int log_fd =
      open(process->log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (log_fd < 0) {
    *error = "open " + process->log_path_ + ": " + g_strerror(errno);
    return nullptr;
  }

  const char* binary = g_getenv("MEMHP_QEMU");
  std::vector<std::string> argv_strings{
      binary != nullptr && *binary != '\0' ? binary : "qemu-system-x86_64"};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  argv_strings.push_back("-qmp");
  argv_strings.push_back("unix:" + process->qmp_path_ + ",server=on,wait=off");
  std::vector<char*> argv;
  for (std::string& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);

  GPid pid = -1;
  const gboolean spawned = g_spawn_async_with_pipes_and_fds(
      process->dir_.c_str(), argv.data(), nullptr,
      static_cast<GSpawnFlags>(G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD |
                               G_SPAWN_STDIN_FROM_DEV_NULL),
      DieWithParent, nullptr, -1, log_fd, log_fd, nullptr, nullptr, 0, &pid, nullptr, nullptr,
      nullptr, &gerror);
  close(log_fd);
  if (!spawned) {
    *error = std::string("spawn ") + argv_strings[0] + ": " + gerror->message;
    g_error_free(gerror);
    return nullptr;
  }
  process->pid_ = pid;
  if (!process->WaitForQmpListening(timeout, error)) return nullptr;  // the destructor reaps
  return process;
}

bool QemuProcess::WaitForQmpListening(std::chrono::milliseconds timeout, std::string* error) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!IsListening(qmp_path_)) {
    if (auto exited = WaitForExit(0ms)) {
      *error = "QEMU ended before its QMP socket listened (" +
               std::string(exited->exited ? "exit " : "signal ") + std::to_string(exited->code) +
               "): " + Log();
      return false;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      *error = "QEMU's QMP socket " + qmp_path_ + " not listening within " +
               std::to_string(timeout.count()) + " ms: " + Log();
      return false;
    }
    std::this_thread::sleep_for(kPoll);
  }
  return true;
}

std::optional<QemuExit> QemuProcess::WaitForExit(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!exit_ && pid_ > 0) {
    int status = 0;
    const pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      exit_ = Decode(status);
      break;
    }
    if (r < 0 && errno != EINTR) break;  // not our child any more: nothing to wait for
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(kPoll);
  }
  return exit_;
}

std::string QemuProcess::Log() const {
  std::ifstream in(log_path_);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

QemuProcess::~QemuProcess() {
  if (pid_ > 0 && !exit_) {
    kill(pid_, SIGKILL);
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
  if (pid_ > 0) g_spawn_close_pid(pid_);
  if (!dir_.empty()) {
    unlink(qmp_path_.c_str());
    unlink(log_path_.c_str());
    rmdir(dir_.c_str());
  }
}

}  // namespace memhp::qemu_test
