// memhp launcher — where memhp's own files are, and the default guest image built from them.
//
// memhpctl runs from its build tree (README): the image scripts are in the source tree, the
// agent and memhpd binaries in the build tree, both known at configure time (memhp_config.h).
// Environment variables override each for installed or relocated copies. The guest kernel and
// initramfs live in a cache folder shared by every VM on the host.
#pragma once

#include <string>

namespace memhp::launcher {

struct Installation {
  std::string image_scripts_dir;  // $MEMHP_IMAGE_SCRIPTS or <source>/host-tools/image
  std::string agent_binary;       // $MEMHP_AGENT_BIN or <build>/guest-agent/memhp-agent
  std::string memhpd_binary;      // $MEMHP_MEMHPD_BIN or <build>/host-tools/daemon/memhpd
  // $MEMHP_AUDIT_PLUGIN or <build>/qemu-plugin/libmemhp-audit.so (built only when set-up
  // fetched qemu-plugin.h; launch --audit checks that it exists)
  std::string audit_plugin;
  // $MEMHP_WORKLOAD_BIN or <build>/host-tools/image/memhp-touch: put in the default image's
  // /usr/bin when it exists (the audit plugin's workload)
  std::string workload_binary;
  std::string cache_dir;          // $MEMHP_CACHE or /var/cache/memhp

  [[nodiscard]] static Installation FromEnvironment();
};

struct GuestImage {
  std::string kernel;
  std::string initrd;
  std::string root_disk;  // "" for the default image (its initramfs is the root)
};

// Fetches Debian's kernel into the cache (once) and builds the initramfs with the current agent
// (again only when the agent or the image scripts changed). "" on success, else what failed
// with the script's own message.
[[nodiscard]] std::string PrepareDefaultImage(const Installation& installation, GuestImage* image);

// The systemd image: the same kernel, the memhp-agent .deb built from the source tree
// (build-deb.sh, into <cache>/deb) and Debian 12 with it installed (build-debian-image.sh,
// into <cache>/debian); each rebuilt only when its inputs changed. "" on success.
[[nodiscard]] std::string PrepareDebianImage(const Installation& installation, GuestImage* image);

}  // namespace memhp::launcher
