// memhp vm tests — the journal a memhpd killed mid-plug leaves behind, written with memhpd's
// own journal code: the plug's begin record and its steps up to device-added, no end. A test
// adds the device itself (over QMP, or through libvirt) so no test-only pause is needed in
// memhpd; the next memhpd resumes the plug from this journal.
#pragma once

#include <cstdint>
#include <string>

namespace memhp::vmtest {

// Appends the records to `journal_path`; "" or what failed.
[[nodiscard]] std::string WriteInterruptedPlug(const std::string& journal_path, const std::string& device_id,
                                               const std::string& memdev_id, uint64_t size, int32_t node);

}  // namespace memhp::vmtest
