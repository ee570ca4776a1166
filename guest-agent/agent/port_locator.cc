// memhp-agent — finding the agent's virtio-serial port by name (see port_locator.h).
#include "agent/port_locator.h"

#include <dirent.h>

#include <cerrno>
#include <fstream>
#include <memory>
#include <sstream>

#include "sysfs/linux_abi.h"

namespace memhp::agent {
namespace {

std::string Join(std::string_view root, std::string_view relative) {
  std::string path(root.empty() ? "/" : root);
  if (path.back() != '/') path += '/';
  path += relative;
  return path;
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\0')) s.pop_back();
  return s;
}

}  // namespace

Result<std::string> FindVirtioPort(std::string_view root, std::string_view name) {
  const std::string dir = Join(root, abi::kVirtioPortsDir);
  std::unique_ptr<DIR, int (*)(DIR*)> d(opendir(dir.c_str()), closedir);
  if (!d) return Error::FromErrno(errno, "opendir", dir);
  while (const dirent* entry = readdir(d.get())) {
    const std::string port = entry->d_name;
    if (port.rfind("vport", 0) != 0) continue;
    std::ifstream in(dir + "/" + port + "/" + std::string(abi::kVirtioPortName));
    if (!in) continue;  // a port without a name (a console port) or one going away
    std::stringstream text;
    text << in.rdbuf();
    if (Trim(text.str()) == name) return Join(root, "dev/" + port);
  }
  return Error{ENOENT, "no virtio-serial port named '" + std::string(name) + "' under " + dir};
}

}  // namespace memhp::agent
