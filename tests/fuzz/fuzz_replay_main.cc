// memhp fuzz — a plain main() that replays a seed corpus through a libFuzzer-style target.
//
// gcc has no libFuzzer, and CI must not depend on luck: every target is also linked with this
// driver and registered as a `fuzz`-suite test that runs each committed seed (files and the
// files of directories given on the command line, in name order) once. The target's own
// invariants (FUZZ_CHECK) and the sanitizers of the build decide pass or fail; a corpus that
// yields no input at all is a failure, so a moved corpus cannot turn the test into a no-op.
#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

bool IsDirectory(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::vector<std::string> ListFiles(const std::string& dir) {
  std::vector<std::string> files;
  if (DIR* d = opendir(dir.c_str())) {
    while (const dirent* e = readdir(d)) {
      const std::string path = dir + "/" + e->d_name;
      if (e->d_name[0] != '.' && !IsDirectory(path)) files.push_back(path);
    }
    closedir(d);
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> inputs;
  for (int i = 1; i < argc; ++i) {
    if (IsDirectory(argv[i])) {
      const std::vector<std::string> files = ListFiles(argv[i]);
      inputs.insert(inputs.end(), files.begin(), files.end());
    } else {
      inputs.emplace_back(argv[i]);
    }
  }
  if (inputs.empty()) {
    std::fprintf(stderr, "no inputs to replay (give corpus files or directories)\n");
    return 1;
  }
  size_t bytes = 0;
  for (const std::string& path : inputs) {
    std::ifstream file(path, std::ios::binary);
    if (!file) {
      std::fprintf(stderr, "cannot open %s\n", path.c_str());
      return 1;
    }
    const std::string input((std::istreambuf_iterator<char>(file)),
                            std::istreambuf_iterator<char>());
    bytes += input.size();
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
  }
  std::printf("replayed %zu inputs, %zu bytes\n", inputs.size(), bytes);
  return 0;
}
