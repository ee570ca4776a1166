// memhp launcher — memhp's files and the default guest image (see installation.h).
#include "launcher/installation.h"

#include <glob.h>
#include <unistd.h>

#include <cstdlib>

#include "launcher/process.h"
#include "memhp_config.h"

namespace memhp::launcher {
namespace {

std::string EnvOr(const char* name, std::string fallback) {
  const char* value = std::getenv(name);
  return value && *value ? value : fallback;
}

std::string Trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  const size_t last_line = s.rfind('\n');
  return last_line == std::string::npos ? s : s.substr(last_line + 1);
}

}  // namespace

Installation Installation::FromEnvironment() {
  return Installation{
      .image_scripts_dir = EnvOr("MEMHP_IMAGE_SCRIPTS", std::string(MEMHP_SOURCE_ROOT) + "/host-tools/image"),
      .agent_binary = EnvOr("MEMHP_AGENT_BIN", std::string(MEMHP_BUILD_ROOT) + "/guest-agent/memhp-agent"),
      .memhpd_binary = EnvOr("MEMHP_MEMHPD_BIN", std::string(MEMHP_BUILD_ROOT) + "/host-tools/daemon/memhpd"),
      .audit_plugin = EnvOr("MEMHP_AUDIT_PLUGIN", std::string(MEMHP_BUILD_ROOT) + "/qemu-plugin/libmemhp-audit.so"),
      .workload_binary = EnvOr("MEMHP_WORKLOAD_BIN", std::string(MEMHP_BUILD_ROOT) + "/host-tools/image/memhp-touch"),
      .cache_dir = EnvOr("MEMHP_CACHE", "/var/cache/memhp"),
  };
}

namespace {

// The cached kernel and its directory; "" on success.
std::string PrepareKernel(const Installation& installation, GuestImage* image, std::string* kernel_dir) {
  const RunResult kernel = RunCapture({installation.image_scripts_dir + "/fetch-kernel.sh",
                                       installation.cache_dir});
  if (kernel.exit_code != 0) return "fetching the guest kernel failed: " + kernel.err;
  *kernel_dir = Trimmed(kernel.out);

  // The uncompressed vmlinux boots through PVH (CONFIG_PVH=y) and skips the xz decompressor,
  // which alone takes 10-20 s under TCG; vmlinuz is the fallback.
  for (const char* name : {"/boot/vmlinux-*", "/boot/vmlinuz-*"}) {
    glob_t found{};
    const std::string pattern = *kernel_dir + name;
    if (glob(pattern.c_str(), 0, nullptr, &found) == 0 && found.gl_pathc > 0) {
      image->kernel = found.gl_pathv[0];
    }
    globfree(&found);
    if (!image->kernel.empty()) break;
  }
  if (image->kernel.empty()) return "no kernel image under " + *kernel_dir + "/boot";
  return "";
}

}  // namespace

std::string PrepareDefaultImage(const Installation& installation, GuestImage* image) {
  std::string kernel_dir;
  if (std::string error = PrepareKernel(installation, image, &kernel_dir); !error.empty()) return error;
  const std::string initrd = installation.cache_dir + "/initrd-default.gz";
  std::vector<std::string> build = {installation.image_scripts_dir + "/build-initramfs.sh",
                                    "--kernel-dir", kernel_dir, "--agent",
                                    installation.agent_binary, "--out", initrd};
  if (access(installation.workload_binary.c_str(), X_OK) == 0) {
    build.insert(build.end(), {"--extra", installation.workload_binary});
  }
  const RunResult built = RunCapture(build);
  if (built.exit_code != 0) return "building the guest initramfs failed: " + built.err;
  image->initrd = Trimmed(built.out);
  return "";
}

std::string PrepareDebianImage(const Installation& installation, GuestImage* image) {
  std::string kernel_dir;
  if (std::string error = PrepareKernel(installation, image, &kernel_dir); !error.empty()) return error;
  const RunResult deb = RunCapture({installation.image_scripts_dir + "/build-deb.sh",
                                    installation.cache_dir + "/deb"});
  if (deb.exit_code != 0) return "building the memhp-agent package failed: " + deb.err;
  const RunResult built = RunCapture({installation.image_scripts_dir + "/build-debian-image.sh",
                                      "--kernel-dir", kernel_dir, "--deb", Trimmed(deb.out),
                                      "--out-dir", installation.cache_dir + "/debian"});
  if (built.exit_code != 0) return "building the Debian guest image failed: " + built.err;
  const std::string dir = Trimmed(built.out);
  image->initrd = dir + "/initrd.gz";
  image->root_disk = dir + "/rootfs.img";
  return "";
}

}  // namespace memhp::launcher
