// memhp tests — a Result<T> or Status as the text a test can assert on.
//
// Several memhp APIs used to answer "" for success and the reason otherwise; their tests said
// ASSERT_EQ(call(), "") and EXPECT_THAT(call(), HasSubstr(...)). Now that they return the one
// result type (base/result.h), ErrorText keeps those assertions as they were, and a failure
// still prints the reason.
#pragma once

#include <string>

#include "base/result.h"

namespace memhp::test_support {

// "" when `result` is ok; its error's message otherwise.
template <typename R>
[[nodiscard]] std::string ErrorText(const R& result) {
  return result.ok() ? std::string() : result.error().message;
}

}  // namespace memhp::test_support
