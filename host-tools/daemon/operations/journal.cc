// journal — see journal.h.
#include "daemon/operations/journal.h"

#include <fcntl.h>
#include <glib.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string_view>

#include "qmp/qmp_json.h"

namespace memhp::daemon::operations {
namespace {

// write() until all of `text` is in, or the errno of the write that failed. A short write is
// not an error by itself (a signal, a full pipe); the next write says what is wrong, if anything.
Status WriteAll(int fd, std::string_view text, const std::string& path) {
  while (!text.empty()) {
    const ssize_t n = write(fd, text.data(), text.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::FromErrno(errno, "write", path);
    }
    text.remove_prefix(static_cast<size_t>(n));
  }
  return OkStatus();
}

Status SyncFolderOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  const std::string folder = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  UniqueFd dir(open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir.valid()) return Error::FromErrno(errno, "open", folder);
  if (fsync(dir.get()) != 0) return Error::FromErrno(errno, "fsync", folder);
  return OkStatus();
}

using qmp::GetBool;
using qmp::GetInt;
using qmp::GetString;
using qmp::GetUint;
using qmp::JsonObjectBuilder;

uint64_t NowUnixNs() { return static_cast<uint64_t>(g_get_real_time()) * 1000; }

template <typename Enum>
Enum ByName(const std::string& name, Enum first, Enum last, const char* (*namer)(Enum), Enum fallback) {
  for (int v = first; v <= last; ++v) {
    if (name == namer(static_cast<Enum>(v))) return static_cast<Enum>(v);
  }
  return fallback;
}

std::string BeginLine(const JournalOp& op) {
  return qmp::ToJson(JsonObjectBuilder()
                         .SetUint("op", op.id)
                         .SetString("rec", "begin")
                         .SetUint("t", op.begin_unix_ns)
                         .SetString("kind", KindName(op.params.kind))
                         .SetString("device", op.params.device_id)
                         .SetString("memdev", op.params.memdev_id)
                         .SetUint("size", op.params.size)
                         .SetInt("node", op.params.node)
                         .SetString("target", TargetName(op.params.target))
                         .Build()
                         .get());
}

std::string StepLine(uint64_t id, const JournalStep& step) {
  return qmp::ToJson(JsonObjectBuilder()
                         .SetUint("op", id)
                         .SetString("rec", "step")
                         .SetUint("t", NowUnixNs())
                         .SetString("step", step.name)
                         .SetString("detail", step.detail)
                         .Build()
                         .get());
}

std::string EndLine(const JournalOp& op) {
  return qmp::ToJson(JsonObjectBuilder()
                         .SetUint("op", op.id)
                         .SetString("rec", "end")
                         .SetUint("t", NowUnixNs())
                         .SetString("outcome", OutcomeName(op.outcome))
                         .SetString("detail", op.detail)
                         .SetBool("recovered", op.recovered)
                         .SetUint("size_reached", op.size_reached)
                         .Build()
                         .get());
}

}  // namespace

bool JournalOp::HasStep(const std::string& name) const {
  return std::any_of(steps.begin(), steps.end(), [&](const JournalStep& s) { return s.name == name; });
}

const char* KindName(memhp::v1::OperationKind kind) {
  switch (kind) {
    case memhp::v1::OPERATION_KIND_PLUG: return "plug";
    case memhp::v1::OPERATION_KIND_UNPLUG: return "unplug";
    case memhp::v1::OPERATION_KIND_RESIZE: return "resize";
    default: return "unspecified";
  }
}

const char* OutcomeName(memhp::v1::OperationOutcome outcome) {
  switch (outcome) {
    case memhp::v1::OPERATION_OUTCOME_DONE: return "done";
    case memhp::v1::OPERATION_OUTCOME_REFUSED: return "refused";
    case memhp::v1::OPERATION_OUTCOME_PARTIAL: return "partial";
    case memhp::v1::OPERATION_OUTCOME_TIMED_OUT: return "timed_out";
    case memhp::v1::OPERATION_OUTCOME_FAILED: return "failed";
    default: return "unspecified";
  }
}

const char* TargetName(memhp::v1::OnlineTarget target) {
  switch (target) {
    case memhp::v1::ONLINE_TARGET_DEFAULT: return "default";
    case memhp::v1::ONLINE_TARGET_KERNEL: return "kernel";
    case memhp::v1::ONLINE_TARGET_MOVABLE: return "movable";
    default: return "policy";
  }
}

Journal::Journal(std::string path, JournalLimits limits) : path_(std::move(path)), limits_(limits) {}

Journal::~Journal() = default;

JournalOp* Journal::Find(uint64_t id) {
  for (auto it = ops_.rbegin(); it != ops_.rend(); ++it) {
    if (it->id == id) return &*it;
  }
  return nullptr;
}

void Journal::Apply(const std::string& line) {
  memhp::Result<qmp::JsonNodePtr> parsed = qmp::ParseJson(line);
  JsonObject* object = parsed ? qmp::AsObject(parsed->get()) : nullptr;
  const auto id = object ? GetUint(object, "op") : std::nullopt;
  const auto rec = object ? GetString(object, "rec") : std::nullopt;
  // memhpd numbers operations from 1 upwards, so 0 and UINT64_MAX (also what "op":-1 reads as)
  // are not its records; the latter would also wrap next_id_ below an id held.
  if (!id || !rec || *id == 0 || *id == UINT64_MAX) {
    ++skipped_;
    return;
  }
  ++records_;
  next_id_ = std::max(next_id_, *id + 1);
  if (*rec == "begin") {
    JournalOp op;
    op.id = *id;
    op.begin_unix_ns = GetUint(object, "t").value_or(0);
    op.params.kind = ByName(GetString(object, "kind").value_or(""), memhp::v1::OPERATION_KIND_UNSPECIFIED,
                            memhp::v1::OPERATION_KIND_RESIZE, KindName, memhp::v1::OPERATION_KIND_UNSPECIFIED);
    op.params.device_id = GetString(object, "device").value_or("");
    op.params.memdev_id = GetString(object, "memdev").value_or("");
    op.params.size = GetUint(object, "size").value_or(0);
    op.params.node = static_cast<int32_t>(GetInt(object, "node").value_or(-1));
    op.params.target = ByName(GetString(object, "target").value_or(""), memhp::v1::ONLINE_TARGET_UNSPECIFIED,
                              memhp::v1::ONLINE_TARGET_MOVABLE, TargetName, memhp::v1::ONLINE_TARGET_UNSPECIFIED);
    ops_.push_back(std::move(op));
    Trim();
    return;
  }
  JournalOp* op = Find(*id);
  if (op == nullptr) return;  // its begin was compacted away or torn: nothing to attach to
  if (*rec == "step") {
    if (op->steps.size() < kMaxStepsPerOp) {
      op->steps.push_back({GetString(object, "step").value_or(""), GetString(object, "detail").value_or("")});
    }
  } else if (*rec == "end") {
    op->ended = true;
    op->outcome = ByName(GetString(object, "outcome").value_or(""), memhp::v1::OPERATION_OUTCOME_UNSPECIFIED,
                         memhp::v1::OPERATION_OUTCOME_FAILED, OutcomeName, memhp::v1::OPERATION_OUTCOME_UNSPECIFIED);
    op->detail = GetString(object, "detail").value_or("");
    op->recovered = GetBool(object, "recovered").value_or(false);
    op->size_reached = GetUint(object, "size_reached").value_or(0);
    Trim();
  }
}

// Memory holds the unfinished operations and the last keep_finished finished ones.
void Journal::Trim() {
  size_t finished = 0;
  for (const auto& op : ops_) finished += op.ended ? 1 : 0;
  while (finished > limits_.keep_finished) {
    auto it = std::find_if(ops_.begin(), ops_.end(), [](const JournalOp& op) { return op.ended; });
    if (it == ops_.end()) break;
    ops_.erase(it);
    --finished;
  }
}

size_t Journal::Load(std::string_view content) {
  size_t start = 0;
  size_t complete = 0;  // bytes up to the last newline
  while (start < content.size()) {
    const size_t end = content.find('\n', start);
    if (end == std::string_view::npos) break;
    if (end > start) Apply(std::string(content.substr(start, end - start)));
    start = end + 1;
    complete = start;
  }
  return complete;
}

Status Journal::Open() {
  if (fd_.valid()) return OkStatus();
  std::string content;
  {
    std::ifstream in(path_, std::ios::binary);
    if (in) {
      std::ostringstream buffer;
      buffer << in.rdbuf();
      content = buffer.str();
    }
  }
  const size_t complete = Load(content);
  UniqueFd fd(open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
  if (!fd.valid()) return Error::FromErrno(errno, "open", path_);
  if (complete < content.size()) {
    // A torn last line: memhpd died inside a write. Cut it so the next record starts cleanly.
    torn_tail_ = true;
    if (ftruncate(fd.get(), static_cast<off_t>(complete)) != 0) return Error::FromErrno(errno, "truncate", path_);
  }
  fd_ = std::move(fd);
  return CompactIfNeeded();
}

Status Journal::Append(const std::string& json_line) {
  if (!fd_.valid()) return Error{EBADF, "journal " + path_ + " is not open"};
  if (Status written = WriteAll(fd_.get(), json_line + "\n", path_); !written.ok()) return written;
  if (fdatasync(fd_.get()) != 0) return Error::FromErrno(errno, "fdatasync", path_);
  ++records_;
  return CompactIfNeeded();
}

Status Journal::CompactIfNeeded() {
  if (records_ <= limits_.max_records) return OkStatus();
  Trim();
  const std::string temp = path_ + ".tmp";
  UniqueFd fd(open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!fd.valid()) return Error::FromErrno(errno, "open", temp);
  std::string text;
  size_t records = 0;
  for (const auto& op : ops_) {
    text += BeginLine(op) + "\n";
    ++records;
    for (const auto& step : op.steps) {
      text += StepLine(op.id, step) + "\n";
      ++records;
    }
    if (op.ended) {
      text += EndLine(op) + "\n";
      ++records;
    }
  }
  // Whatever fails from here leaves the journal as it was: the temp file goes, and the old
  // file (still open for appending) keeps every record.
  Status replaced = WriteAll(fd.get(), text, temp);
  if (replaced.ok() && fsync(fd.get()) != 0) replaced = Error::FromErrno(errno, "fsync", temp);
  fd.Reset();
  if (replaced.ok() && rename(temp.c_str(), path_.c_str()) != 0) {
    replaced = Error::FromErrno(errno, "rename " + temp + " to", path_);
  }
  if (!replaced.ok()) {
    unlink(temp.c_str());
    return replaced;
  }
  // The rename is durable only once the folder is: until then a crash may bring back the old
  // file, and every record appended to the new one would be lost with it.
  if (Status synced = SyncFolderOf(path_); !synced.ok()) return synced;
  UniqueFd new_fd(open(path_.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC));
  if (!new_fd.valid()) return Error::FromErrno(errno, "open", path_);
  fd_ = std::move(new_fd);
  records_ = records;
  return OkStatus();
}

Status Journal::Begin(const JournalParams& params, uint64_t* id) {
  JournalOp op;
  op.id = next_id_++;
  op.begin_unix_ns = NowUnixNs();
  op.params = params;
  *id = op.id;
  const std::string line = BeginLine(op);
  ops_.push_back(std::move(op));
  return Append(line);
}

Status Journal::Step(uint64_t id, const std::string& name, const std::string& detail) {
  JournalOp* op = Find(id);
  if (op == nullptr) return Error::Invalid("journal: no operation " + std::to_string(id));
  JournalStep step{name, detail};
  if (op->steps.size() < kMaxStepsPerOp) op->steps.push_back(step);
  return Append(StepLine(id, step));
}

Status Journal::End(uint64_t id, memhp::v1::OperationOutcome outcome, const std::string& detail,
                         bool recovered, uint64_t size_reached) {
  JournalOp* op = Find(id);
  if (op == nullptr) return Error::Invalid("journal: no operation " + std::to_string(id));
  op->ended = true;
  op->outcome = outcome;
  op->detail = detail;
  op->recovered = recovered;
  op->size_reached = size_reached;
  const std::string line = EndLine(*op);
  Trim();
  return Append(line);
}

std::vector<JournalOp> Journal::Unfinished() const {
  std::vector<JournalOp> out;
  for (const auto& op : ops_) {
    if (!op.ended) out.push_back(op);
  }
  return out;
}

}  // namespace memhp::daemon::operations
