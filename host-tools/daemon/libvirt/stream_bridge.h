// stream_bridge — a libvirt virStream joined to one end of a socketpair, so that the agent
// wire (wire/framed_stream.h over an fd) runs unchanged over virDomainOpenChannel.
//
// virDomainOpenChannel hands the bytes of a domain's <channel> to the client through a stream
// on the libvirt connection itself, so the agent is reached through any URI (qemu+ssh:// to
// another host included) and memhpd needs no socket path on the domain's host. The bridge
// copies both ways on the GLib loop: stream readable → socket, socket readable → stream. Each
// direction keeps at most kBridgeBuffer bytes unsent and stops reading its source while full,
// so a slow side bounds memory instead of growing it. When either side ends (the stream's
// EOF or error, the socket's hang-up), the bridge closes both: the FramedStream sees the
// socket close and the agent channel reconnects through its connector (a new bridge).
#pragma once

#include <glib.h>
#include <libvirt/libvirt.h>

#include <cstddef>
#include <memory>
#include <string>

#include "base/result.h"
#include "base/unique_fd.h"

namespace memhp::daemon::libvirt {

inline constexpr size_t kBridgeBuffer = 1u << 20;

class StreamBridge {
 public:
  // Takes `stream` (opened with VIR_STREAM_NONBLOCK). Returns the bridge; `peer` gets the
  // socket end for the FramedStream.
  [[nodiscard]] static Result<std::unique_ptr<StreamBridge>> Create(virStreamPtr stream, GMainContext* context,
                                                                    UniqueFd* peer);
  ~StreamBridge();
  StreamBridge(const StreamBridge&) = delete;
  StreamBridge& operator=(const StreamBridge&) = delete;

  [[nodiscard]] bool open() const { return stream_ != nullptr; }

 private:
  StreamBridge(virStreamPtr stream, GMainContext* context, UniqueFd socket);
  [[nodiscard]] Status Start();
  void Close(const std::string& why);
  void UpdateWatches();
  void OnStream(int events);
  void OnSocket(GIOCondition condition);
  void PumpToSocket();
  void PumpToStream();
  static void StreamCallback(virStreamPtr, int events, void* opaque);
  static gboolean SocketCallback(gint fd, GIOCondition condition, gpointer opaque);

  virStreamPtr stream_;
  GMainContext* context_;
  UniqueFd socket_;
  GSource* socket_source_ = nullptr;
  GIOCondition socket_condition_ = static_cast<GIOCondition>(0);
  int stream_events_ = -1;
  std::string to_socket_;
  std::string to_stream_;
};

}  // namespace memhp::daemon::libvirt
