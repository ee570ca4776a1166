// memhp vm tests — see interrupted_plug.h.
#include "interrupted_plug.h"

#include "daemon/operations/journal.h"
#include "../unit/support/status_text.h"

namespace memhp::vmtest {

std::string WriteInterruptedPlug(const std::string& journal_path, const std::string& device_id,
                                 const std::string& memdev_id, uint64_t size, int32_t node) {
  memhp::daemon::operations::Journal journal(journal_path);
  if (std::string e = test_support::ErrorText(journal.Open()); !e.empty()) return e;
  memhp::daemon::operations::JournalParams params;
  params.kind = memhp::v1::OPERATION_KIND_PLUG;
  params.device_id = device_id;
  params.memdev_id = memdev_id;
  params.size = size;
  params.node = node;
  uint64_t id = 0;
  if (std::string e = test_support::ErrorText(journal.Begin(params, &id)); !e.empty()) return e;
  if (std::string e = test_support::ErrorText(journal.Step(id, "object-added", memdev_id)); !e.empty()) return e;
  return test_support::ErrorText(journal.Step(id, "device-added", device_id));
}

}  // namespace memhp::vmtest
