// memhp tests — memhpctl(1) (docs/man/memhpctl.1.scd) against the verb table: the page names
// every command, every option of each command and every global option, so a verb or option
// added to the table without its line in the manual fails here.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <glib.h>

#include <string>

#include "memhp_config.h"
#include "memhpctl/verb_table.h"

namespace memhp::cli {
namespace {

using ::testing::HasSubstr;

std::string Page() {
  const std::string path = std::string(MEMHP_SOURCE_ROOT) + "/docs/man/memhpctl.1.scd";
  g_autofree gchar* text = nullptr;
  if (!g_file_get_contents(path.c_str(), &text, nullptr, nullptr)) {
    ADD_FAILURE() << "cannot read " << path;
    return "";
  }
  return text;
}

TEST(ManPageTest, NamesEveryCommandAndOption) {
  const std::string page = Page();
  for (const VerbSpec& row : VerbTable()) {
    // Each command starts its own entry: "*plug*" at the start of a line.
    EXPECT_THAT(page, HasSubstr("\n*" + std::string(row.name) + "*")) << row.name;
    for (const args::OptionSpec& option : row.options) {
      EXPECT_THAT(page, HasSubstr("*--" + option.name + "*")) << row.name << " --" << option.name;
    }
  }
  for (const args::OptionSpec& option : GlobalOptionSpecs()) EXPECT_THAT(page, HasSubstr("*--" + option.name + "*"));
  for (const char* exit_code : {"*0*", "*1*", "*2*", "*3*"}) EXPECT_THAT(page, HasSubstr(exit_code));
}

}  // namespace
}  // namespace memhp::cli
