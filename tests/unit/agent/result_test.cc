// memhp tests — Result<T> / Status (guest-agent/sysfs/result.h).
#include "sysfs/result.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <memory>
#include <string>

namespace memhp::agent {
namespace {

Result<int> Half(int v) {
  if (v % 2 != 0) return Error::Invalid("odd: " + std::to_string(v));
  return v / 2;
}

TEST(Result, HoldsValue) {
  Result<int> r = Half(8);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(static_cast<bool>(r));
  EXPECT_EQ(r.value(), 4);
  EXPECT_EQ(*r, 4);
}

TEST(Result, HoldsError) {
  Result<int> r = Half(7);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().errno_value, EINVAL);
  EXPECT_EQ(r.error().message, "odd: 7");
}

TEST(Result, MoveOnlyValue) {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(42);
  ASSERT_TRUE(r.ok());
  std::unique_ptr<int> p = std::move(r).value();
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(*p, 42);
}

TEST(Result, StringValueIsNotConfusedWithError) {
  Result<std::string> r = std::string("online");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->size(), 6u);
}

TEST(Result, ErrorMovesOut) {
  Result<std::string> r = Error{ENOENT, "gone"};
  Error e = std::move(r).error();
  EXPECT_EQ(e.errno_value, ENOENT);
  EXPECT_EQ(e.message, "gone");
}

TEST(Status, OkAndError) {
  Status ok = OkStatus();
  EXPECT_TRUE(ok.ok());
  Status bad = Error::FromErrno(EBUSY, "write", "/sys/devices/system/memory/memory9/state");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().errno_value, EBUSY);
  EXPECT_EQ(bad.error().message,
            "write /sys/devices/system/memory/memory9/state: Device or resource busy");
}

TEST(Error, FromErrnoNamesOpPathAndReason) {
  const Error e = Error::FromErrno(EISDIR, "read", "/x/state");
  EXPECT_EQ(e.errno_value, EISDIR);
  EXPECT_EQ(e.message, "read /x/state: Is a directory");
}

TEST(ResultDeathTest, ValueOfErrorAborts) {
  Result<int> r = Half(3);
  ASSERT_FALSE(r.ok());
  EXPECT_DEATH({ (void)r.value(); }, "odd: 3");
}

TEST(ResultDeathTest, ErrorOfValueAborts) {
  Result<int> r = Half(2);
  ASSERT_TRUE(r.ok());
  EXPECT_DEATH({ (void)r.error(); }, "error\\(\\) of a value");
}

}  // namespace
}  // namespace memhp::agent
