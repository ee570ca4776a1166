// memhp-agent — PsiTrigger (see psi_trigger.h).
#include "io/psi_trigger.h"

#include <fcntl.h>
#include <glib-unix.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <utility>

namespace memhp::agent {

Status CheckPsiTriggerSpec(const PsiTriggerSpec& spec) {
  // psi_trigger_create(): WINDOW_MIN_US 500000, WINDOW_MAX_US 10000000, threshold in (0, window].
  if (spec.window_us < 500'000 || spec.window_us > 10'000'000) {
    return Error::Invalid("pressure window must be 500 ms to 10 s, not " + std::to_string(spec.window_us / 1000) + " ms");
  }
  if (spec.threshold_us == 0 || spec.threshold_us > spec.window_us) {
    return Error::Invalid("pressure threshold must be above 0 and at most the window");
  }
  return OkStatus();
}

Result<std::unique_ptr<PsiTrigger>> PsiTrigger::Open(const std::string& path, PsiTriggerSpec spec,
                                                     GMainContext* context, std::function<void()> on_fire) {
  if (Status valid = CheckPsiTriggerSpec(spec); !valid.ok()) return std::move(valid).error();
  UniqueFd fd(open(path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC));
  if (!fd.valid()) return Error::FromErrno(errno, "open", path);
  // The kernel parses the text up to its NUL (psi_write copies at most 32 bytes).
  const std::string text = "some " + std::to_string(spec.threshold_us) + " " + std::to_string(spec.window_us);
  if (write(fd.get(), text.c_str(), text.size() + 1) < 0) return Error::FromErrno(errno, "write a trigger to", path);
  return std::unique_ptr<PsiTrigger>(new PsiTrigger(std::move(fd), spec, context, std::move(on_fire)));
}

PsiTrigger::PsiTrigger(UniqueFd fd, PsiTriggerSpec spec, GMainContext* context, std::function<void()> on_fire)
    : fd_(std::move(fd)), spec_(spec), on_fire_(std::move(on_fire)) {
  source_ = g_unix_fd_source_new(fd_.get(), G_IO_PRI);
  g_source_set_callback(source_, G_SOURCE_FUNC(&PsiTrigger::OnReady), this, nullptr);
  g_source_attach(source_, context);
}

PsiTrigger::~PsiTrigger() {
  g_source_destroy(source_);
  g_source_unref(source_);
}

gboolean PsiTrigger::OnReady(gint, GIOCondition condition, gpointer self_ptr) {
  auto* self = static_cast<PsiTrigger*>(self_ptr);
  if (condition & (G_IO_ERR | G_IO_NVAL)) {
    // The trigger is gone (the kernel never does this to a live fd; a closed one would). The
    // source ends here; the destructor still drops our reference (destroying it again is a no-op).
    g_warning("memory pressure trigger failed; pressure is reported on request only");
    return G_SOURCE_REMOVE;
  }
  if (condition & G_IO_PRI) self->on_fire_();
  return G_SOURCE_CONTINUE;
}

}  // namespace memhp::agent
