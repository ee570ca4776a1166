// memhp — Error constructors (see result.h).
#include "base/result.h"

#include <cerrno>
#include <cstring>

namespace memhp {

Error Error::FromErrno(int err, std::string_view op, std::string_view path) {
  std::string msg;
  msg.reserve(op.size() + path.size() + 40);
  msg.append(op).append(" ").append(path).append(": ").append(std::strerror(err));
  return Error{err, std::move(msg)};
}

Error Error::Invalid(std::string what) { return Error{EINVAL, std::move(what)}; }

}  // namespace memhp
