// memhp — Result<T> and Status: a value or an error that must be looked at.
//
// One result type for every memhp process (the agent, memhpd, memhpctl, the plugin's host
// side). Nothing throws across memhp's own code: every fallible call returns a Result<T>
// holding either the value or an Error. Our own failures carry the errno of the system call
// that failed and a message naming the operation and the path (docs/architecture.md, "Errors");
// malformed content read from the kernel or a peer carries EINVAL (or EFBIG / E2BIG / EOVERFLOW
// for bounds) and says which input was bad. The type is [[nodiscard]] so a dropped error is a
// compiler warning. Reading value() of an error (or error() of a value) is a programming bug
// and aborts.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace memhp {

// Why something failed. errno_value is the errno of the failed system call, or the errno that
// best names a content error (EINVAL for malformed input); message is for people, never parsed.
struct Error {
  int errno_value = 0;
  std::string message;
  // A memhp.v1.ErrorCode (error.proto) when the error will cross a wire (a control answer, an
  // agent answer); 0 (ERROR_CODE_UNSPECIFIED) lets the receiver pick one. An int so this base
  // library needs no generated code.
  int code = 0;

  // "<op> <path>: <strerror(err)>", e.g. "read /sys/devices/system/memory/memory3/state: Is a
  // directory". The path is part of the message so that every error names what failed.
  [[nodiscard]] static Error FromErrno(int err, std::string_view op, std::string_view path);
  // Malformed content: errno EINVAL and "<what>".
  [[nodiscard]] static Error Invalid(std::string what);
};

namespace result_detail {
[[noreturn]] inline void Die(const char* what) {
  std::fprintf(stderr, "memhp: Result misuse: %s\n", what);
  std::abort();
}
}  // namespace result_detail

// Either a T or an Error. Construct implicitly from either; test with ok() before value().
template <typename T>
class [[nodiscard]] Result {
  static_assert(!std::is_same_v<std::remove_cv_t<T>, Error>, "Result<Error> is ambiguous");
  static_assert(!std::is_reference_v<T>, "Result<T&> is not supported");

 public:
  Result(const T& value) : v_(std::in_place_index<0>, value) {}              // NOLINT: implicit
  Result(T&& value) : v_(std::in_place_index<0>, std::move(value)) {}        // NOLINT: implicit
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}      // NOLINT: implicit

  [[nodiscard]] bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  [[nodiscard]] T& value() & { return Checked(); }
  [[nodiscard]] const T& value() const& { return Checked(); }
  [[nodiscard]] T&& value() && { return std::move(Checked()); }

  T& operator*() & { return Checked(); }
  const T& operator*() const& { return Checked(); }
  T* operator->() { return &Checked(); }
  const T* operator->() const { return &Checked(); }

  [[nodiscard]] const Error& error() const& {
    if (ok()) result_detail::Die("error() of a value");
    return std::get<1>(v_);
  }
  [[nodiscard]] Error&& error() && {
    if (ok()) result_detail::Die("error() of a value");
    return std::get<1>(std::move(v_));
  }

 private:
  T& Checked() {
    if (!ok()) result_detail::Die(std::get<1>(v_).message.c_str());
    return std::get<0>(v_);
  }
  const T& Checked() const {
    if (!ok()) result_detail::Die(std::get<1>(v_).message.c_str());
    return std::get<0>(v_);
  }

  std::variant<T, Error> v_;
};

// Success with no value, or an Error.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT: implicit

  [[nodiscard]] bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }

  [[nodiscard]] const Error& error() const& {
    if (ok_) result_detail::Die("error() of an ok Status");
    return error_;
  }
  [[nodiscard]] Error&& error() && {
    if (ok_) result_detail::Die("error() of an ok Status");
    return std::move(error_);
  }

 private:
  Error error_;
  bool ok_ = true;
};

using Status = Result<void>;

[[nodiscard]] inline Status OkStatus() { return Status(); }

}  // namespace memhp
