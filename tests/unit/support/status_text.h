// memhp tests — a Result<T> or Status as the text a test can assert on.
//
// Several memhp APIs used to answer "" for success and the reason otherwise; their tests said
// ASSERT_EQ(call(), "") and EXPECT_THAT(call(), HasSubstr(...)). Now that they return the one
// result type (base/result.h), ErrorText keeps those assertions as they were, and a failure
// still prints the reason. Others answered std::optional<error> (nothing for success);
// ErrorOf does the same for a Status.
#pragma once

#include <optional>
#include <string>
#include <utility>

#include "base/result.h"

namespace memhp::test_support {

// "" when `result` is ok; its error's message otherwise.
template <typename R>
[[nodiscard]] std::string ErrorText(const R& result) {
  return result.ok() ? std::string() : result.error().message;
}

// The error of `status`; nothing when it is ok.
[[nodiscard]] inline std::optional<Error> ErrorOf(Status status) {
  if (status.ok()) return std::nullopt;
  return std::move(status).error();
}

}  // namespace memhp::test_support
