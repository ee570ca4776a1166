// memhp — the udev half of --take-onlining (pure: a rule file's text in, its override out).
//
// udev(7) reads rule files from /etc/udev/rules.d, /run/udev/rules.d and /usr/lib/udev/rules.d
// (and /lib/udev/rules.d), and a file in a folder earlier in that list hides every file of the
// same name in the later ones. The agent overrides a distribution's rule that onlines memory
// with a copy in /run/udev/rules.d that is the same file with only the onlining rules commented
// out: the distribution's other rules in it (RHEL's 40-redhat.rules also onlines CPUs) keep
// working, /run is gone at the next boot, and deleting the copy undoes it at once.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace memhp::agent {

// Every override begins with this line; an override of ours is recognised by it (and never
// overridden again from itself).
inline constexpr std::string_view kUdevMaskHeader =
    "# memhp-agent --take-onlining: a copy of ";

struct RuleLines {
  std::size_t first = 0;  // 1-based physical lines, inclusive (a rule continued with '\')
  std::size_t last = 0;
};

// `text` with every physical line inside one of `rules` turned into a comment, behind a header
// naming `source_path`. A commented line loses its trailing backslash, so no comment continues
// into the next line. Lines outside the file are ignored.
[[nodiscard]] std::string MaskUdevRules(std::string_view text, const std::vector<RuleLines>& rules,
                                        std::string_view source_path);

// Whether `text` is an override MaskUdevRules() wrote.
[[nodiscard]] bool IsUdevMask(std::string_view text);

}  // namespace memhp::agent
