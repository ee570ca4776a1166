// memhp host tools — the state folder of one VM (see state_dir.h).
#include "vm/state_dir.h"

#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <deque>
#include <fstream>

namespace memhp::vm {

std::string DefaultStateRoot() {
  const char* env = std::getenv("MEMHP_STATE");
  return env && *env ? env : "/var/lib/memhp";
}

bool IsValidVmName(std::string_view name) {
  if (name.empty() || name.size() > 32 || name == "." || name == "..") return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

StateDir StateDir::ForVm(std::string_view root, std::string_view name) {
  std::string path(root);
  if (path.empty() || path.back() != '/') path += '/';
  path += name;
  return StateDir(std::move(path));
}

std::vector<std::string> ListVmNames(const std::string& root) {
  std::vector<std::string> names;
  DIR* dir = opendir(root.c_str());
  if (!dir) return names;
  while (const dirent* entry = readdir(dir)) {
    const std::string name = entry->d_name;
    if (!IsValidVmName(name)) continue;
    const StateDir state = StateDir::ForVm(root, name);
    for (const std::string& file : {state.memhpd_pidfile(), state.qemu_pidfile(), state.control_socket()}) {
      if (access(file.c_str(), F_OK) == 0) {
        names.push_back(name);
        break;
      }
    }
  }
  closedir(dir);
  std::sort(names.begin(), names.end());
  return names;
}

std::string StateDir::File(std::string_view name) const {
  std::string file = path_;
  file += '/';
  file += name;
  return file;
}

bool PidAlive(long pid) {
  if (pid <= 0) return false;
  // Signal 0 checks existence; EPERM still means the process exists.
  if (kill(static_cast<pid_t>(pid), 0) != 0 && errno != EPERM) return false;
  // A zombie (exited, not yet reaped by its parent — for a daemon, init) answers kill(0) too.
  // Its state letter follows the ")" that closes the command name, which may hold spaces.
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  const size_t close_paren = line.rfind(')');
  return close_paren == std::string::npos || line.compare(close_paren, 3, ") Z") != 0;
}

long ReadLivePid(const std::string& pidfile) {
  std::ifstream in(pidfile);
  long pid = 0;
  if (!(in >> pid) || pid <= 0) return 0;
  return PidAlive(pid) ? pid : 0;
}

std::string TailFile(const std::string& path, int lines) {
  std::ifstream in(path);
  std::deque<std::string> tail;
  for (std::string line; std::getline(in, line);) {
    tail.push_back(std::move(line));
    if (static_cast<int>(tail.size()) > lines) tail.pop_front();
  }
  std::string out;
  for (const std::string& line : tail) out += line + "\n";
  return out;
}

}  // namespace memhp::vm
