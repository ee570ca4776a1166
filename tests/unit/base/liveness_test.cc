// memhp tests — Liveness (proto/base/liveness.h): a token outlives its owner safely.
#include "base/liveness.h"

#include <gtest/gtest.h>

#include <functional>
#include <memory>

namespace memhp {
namespace {

// An owner that hands out a callback, as memhpd's objects hand replies to the GLib loop.
struct Owner {
  int calls = 0;
  Liveness alive;
  std::function<void()> Callback() {
    const Liveness::Token token = alive.token();
    return [this, token] {
      if (token.Expired()) return;
      ++calls;
    };
  }
};

TEST(Liveness, ATokenIsLiveWhileItsOwnerIs) {
  Owner owner;
  const std::function<void()> callback = owner.Callback();
  callback();
  callback();
  EXPECT_EQ(owner.calls, 2);
}

TEST(Liveness, DestroyingTheOwnerExpiresItsTokens) {
  auto owner = std::make_unique<Owner>();
  const std::function<void()> callback = owner->Callback();
  const Liveness::Token token = owner->alive.token();
  owner.reset();
  EXPECT_TRUE(token.Expired());
  callback();  // must not touch the freed owner (ASan would say so)
}

TEST(Liveness, ExpireCutsOffEveryTokenAtOnce) {
  Owner owner;
  const std::function<void()> before = owner.Callback();
  owner.alive.Expire();
  before();
  owner.Callback()();  // taken after Expire(): expired too
  EXPECT_EQ(owner.calls, 0);
}

TEST(Liveness, OwnersDoNotShareAFlag) {
  auto first = std::make_unique<Owner>();
  Owner second;
  const Liveness::Token token = second.alive.token();
  first.reset();
  EXPECT_FALSE(token.Expired());
}

}  // namespace
}  // namespace memhp
