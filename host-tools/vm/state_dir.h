// memhp host tools — the state folder of one VM, shared by memhpctl, memhpd and the tests.
//
// Every VM memhp serves has a folder holding its sockets, logs and pid files, so that any
// process on the host finds the VM by name alone. The layout is fixed here, once:
//   qmp.sock      QEMU's QMP socket (one client at a time: memhpd)
//   agent.sock    QEMU's chardev socket behind the agent's virtio-serial port (memhpd)
//   console.sock  the guest's serial console (a shell; test harnesses drive it)
//   console.log   everything the guest printed on its console
//   control.sock  memhpd's control socket: any number of memhpctl clients
//   qemu.pid      QEMU's pid (only when memhp launched it)
//   memhpd.pid    memhpd's pid;  memhpd.log  what memhpd logged
//   audit.sock    the memhp-audit plugin's control socket (launch --audit; memhpd)
//   audit.json    the plugin's JSON report, written when QEMU exits
//   journal.jsonl memhpd's operation journal, one JSON record per line (daemon/operations/journal.h)
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace memhp::vm {

// Where VMs live unless told otherwise: $MEMHP_STATE if set, else /var/lib/memhp.
[[nodiscard]] std::string DefaultStateRoot();

// A VM name is a folder name and part of socket paths: [A-Za-z0-9._-]{1,32}, not "." or "..".
[[nodiscard]] bool IsValidVmName(std::string_view name);

class StateDir {
 public:
  explicit StateDir(std::string path) : path_(std::move(path)) {}
  // <root>/<name>
  static StateDir ForVm(std::string_view root, std::string_view name);

  [[nodiscard]] const std::string& path() const { return path_; }
  [[nodiscard]] std::string qmp_socket() const { return File("qmp.sock"); }
  [[nodiscard]] std::string agent_socket() const { return File("agent.sock"); }
  [[nodiscard]] std::string console_socket() const { return File("console.sock"); }
  [[nodiscard]] std::string console_log() const { return File("console.log"); }
  [[nodiscard]] std::string control_socket() const { return File("control.sock"); }
  [[nodiscard]] std::string qemu_pidfile() const { return File("qemu.pid"); }
  [[nodiscard]] std::string memhpd_pidfile() const { return File("memhpd.pid"); }
  [[nodiscard]] std::string memhpd_log() const { return File("memhpd.log"); }
  [[nodiscard]] std::string audit_socket() const { return File("audit.sock"); }
  [[nodiscard]] std::string audit_report() const { return File("audit.json"); }
  [[nodiscard]] std::string journal() const { return File("journal.jsonl"); }

 private:
  [[nodiscard]] std::string File(std::string_view name) const;
  std::string path_;
};

// The names of the VMs under `root`, sorted: folders with a valid VM name that hold a memhpd
// or QEMU pid file or memhpd's control socket (a leftover folder without them is no VM).
[[nodiscard]] std::vector<std::string> ListVmNames(const std::string& root);

// Whether `pid` names a living process; a zombie counts as gone.
[[nodiscard]] bool PidAlive(long pid);

// The pid in `pidfile`, or 0 when it is missing, unreadable, or names no living process.
[[nodiscard]] long ReadLivePid(const std::string& pidfile);

// The last `lines` lines of a text file ("" when it cannot be read); for error messages.
[[nodiscard]] std::string TailFile(const std::string& path, int lines);

}  // namespace memhp::vm
