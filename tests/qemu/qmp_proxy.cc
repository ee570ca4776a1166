// qmp_proxy — see qmp_proxy.h.
#include "qmp_proxy.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "qmp/qmp_json.h"

namespace memhp::qemu_test {
namespace {

bool FillAddress(const std::string& path, sockaddr_un* addr) {
  if (path.size() >= sizeof(addr->sun_path)) return false;
  std::memset(addr, 0, sizeof(*addr));
  addr->sun_family = AF_UNIX;
  std::memcpy(addr->sun_path, path.data(), path.size());
  return true;
}

void CloseFd(int& fd) {
  if (fd >= 0) close(fd);
  fd = -1;
}

// Writes as much of `out` as the socket takes; false when the peer is gone.
bool WriteSome(int fd, std::string& out) {
  while (!out.empty()) {
    const ssize_t n = send(fd, out.data(), out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      out.erase(0, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }
  return true;
}

}  // namespace

std::unique_ptr<QmpProxy> QmpProxy::Start(const std::string& listen_path, const std::string& upstream_path,
                                          std::string* error) {
  std::unique_ptr<QmpProxy> proxy(new QmpProxy());
  proxy->listen_path_ = listen_path;
  proxy->upstream_path_ = upstream_path;
  sockaddr_un addr;
  if (!FillAddress(listen_path, &addr)) {
    *error = "proxy path too long: " + listen_path;
    return nullptr;
  }
  proxy->listen_fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  unlink(listen_path.c_str());
  if (proxy->listen_fd_ < 0 || bind(proxy->listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      listen(proxy->listen_fd_, 4) != 0 || pipe2(proxy->wake_, O_CLOEXEC | O_NONBLOCK) != 0) {
    *error = "proxy listen on " + listen_path + ": " + std::strerror(errno);
    return nullptr;
  }
  proxy->thread_ = std::thread([p = proxy.get()] { p->Run(); });
  return proxy;
}

QmpProxy::~QmpProxy() {
  stop_ = true;
  Wake();
  if (thread_.joinable()) thread_.join();
  CloseFd(client_fd_);
  CloseFd(upstream_fd_);
  CloseFd(listen_fd_);
  CloseFd(wake_[0]);
  CloseFd(wake_[1]);
  if (!listen_path_.empty()) unlink(listen_path_.c_str());
}

void QmpProxy::ReplaceGreeting(std::string line) {
  std::lock_guard<std::mutex> lock(mutex_);
  greeting_ = std::move(line);
}

void QmpProxy::SetAnswer(Answer answer) {
  std::lock_guard<std::mutex> lock(mutex_);
  answer_ = std::move(answer);
}

void QmpProxy::Inject(std::string bytes) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    to_client_ += bytes;
  }
  Wake();
}

void QmpProxy::Wake() {
  if (wake_[1] < 0) return;
  const char byte = 1;
  (void)!write(wake_[1], &byte, 1);  // a full pipe already wakes the thread
}

void QmpProxy::OnClientLine(const std::string& line) {
  ++commands_seen_;
  memhp::Result<qmp::JsonNodePtr> parsed = qmp::ParseJson(line);
  const JsonObject* object = parsed ? qmp::AsObject(parsed->get()) : nullptr;
  const std::string command = qmp::GetString(object, "execute").value_or("");
  const int64_t id = qmp::GetInt(object, "id").value_or(-1);
  std::optional<std::string> answer;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (answer_) answer = answer_(command, id);
    if (answer) to_client_ += *answer + "\r\n";
  }
  if (!answer) to_upstream_ += line + "\n";
}

void QmpProxy::Run() {
  char chunk[65536];
  while (!stop_) {
    bool for_client = false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for_client = !to_client_.empty();
    }
    pollfd fds[4];
    nfds_t n = 0;
    fds[n++] = {wake_[0], POLLIN, 0};
    if (client_fd_ < 0) {
      fds[n++] = {listen_fd_, POLLIN, 0};
    } else {
      fds[n++] = {client_fd_, static_cast<short>(POLLIN | (for_client ? POLLOUT : 0)), 0};
      fds[n++] = {upstream_fd_, static_cast<short>(POLLIN | (to_upstream_.empty() ? 0 : POLLOUT)), 0};
    }
    if (poll(fds, n, 1000) < 0 && errno != EINTR) return;
    if (fds[0].revents & POLLIN) {
      while (read(wake_[0], chunk, sizeof(chunk)) > 0) {
      }
    }
    if (client_fd_ < 0) {
      if (!(fds[1].revents & POLLIN)) continue;
      client_fd_ = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      sockaddr_un addr;
      FillAddress(upstream_path_, &addr);
      upstream_fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (client_fd_ < 0 || upstream_fd_ < 0 ||
          connect(upstream_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
        CloseFd(client_fd_);
        CloseFd(upstream_fd_);
      }
      greeting_pending_ = true;
      from_client_.clear();
      from_upstream_.clear();
      to_upstream_.clear();
      continue;
    }
    bool lost = false;
    // memhpd -> QEMU, a line at a time (the proxy may answer it instead).
    if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
      const ssize_t got = read(client_fd_, chunk, sizeof(chunk));
      if (got <= 0) {
        lost = true;
      } else {
        from_client_.append(chunk, static_cast<size_t>(got));
        for (size_t nl; (nl = from_client_.find('\n')) != std::string::npos;) {
          const std::string line = from_client_.substr(0, nl);
          from_client_.erase(0, nl + 1);
          OnClientLine(line);
        }
      }
    }
    // QEMU -> memhpd, as it comes, except the greeting when it is replaced.
    if (!lost && (fds[2].revents & (POLLIN | POLLHUP | POLLERR))) {
      const ssize_t got = read(upstream_fd_, chunk, sizeof(chunk));
      if (got <= 0) {
        lost = true;
      } else {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!greeting_pending_) {
          to_client_.append(chunk, static_cast<size_t>(got));
        } else {
          from_upstream_.append(chunk, static_cast<size_t>(got));
          const size_t nl = from_upstream_.find('\n');
          if (nl != std::string::npos) {
            greeting_pending_ = false;
            to_client_ += greeting_ ? *greeting_ + "\r\n" : from_upstream_.substr(0, nl + 1);
            to_client_ += from_upstream_.substr(nl + 1);
            from_upstream_.clear();
          }
        }
      }
    }
    if (!lost && !to_upstream_.empty()) lost = !WriteSome(upstream_fd_, to_upstream_);
    if (!lost) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!to_client_.empty()) lost = !WriteSome(client_fd_, to_client_);
    }
    if (lost) {
      CloseFd(client_fd_);
      CloseFd(upstream_fd_);
      std::lock_guard<std::mutex> lock(mutex_);
      to_client_.clear();
    }
  }
}

}  // namespace memhp::qemu_test
