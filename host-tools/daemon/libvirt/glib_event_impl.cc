// glib_event_impl — see glib_event_impl.h.
#include "daemon/libvirt/glib_event_impl.h"

#include <libvirt/libvirt.h>

#include <map>
#include <mutex>

namespace memhp::daemon::libvirt {
namespace {

// One libvirt handle: a GSource watching its fd.
struct HandleSource {
  GSource base;
  int watch;
  int fd;
  gpointer tag;
  virEventHandleCallback cb;
  void* opaque;
  virFreeCallback ff;
};

// One libvirt timeout: a GSource with a ready time.
struct TimerSource {
  GSource base;
  int timer;
  int period_ms;  // -1 disabled, 0 every iteration, else the period
  virEventTimeoutCallback cb;
  void* opaque;
  virFreeCallback ff;
};

struct Registry {
  std::mutex mutex;
  GMainContext* context = nullptr;
  int next_id = 1;
  std::map<int, HandleSource*> handles;
  std::map<int, TimerSource*> timers;
};

Registry& TheRegistry() {
  static Registry* registry = new Registry();  // libvirt may call after exit handlers run
  return *registry;
}

GIOCondition ToCondition(int events) {
  int c = 0;
  if (events & VIR_EVENT_HANDLE_READABLE) c |= G_IO_IN;
  if (events & VIR_EVENT_HANDLE_WRITABLE) c |= G_IO_OUT;
  // Errors and hang-ups are always reported by poll; libvirt wants to hear of them.
  c |= G_IO_ERR | G_IO_HUP;
  return static_cast<GIOCondition>(c);
}

int ToEvents(GIOCondition c) {
  int e = 0;
  if (c & G_IO_IN) e |= VIR_EVENT_HANDLE_READABLE;
  if (c & G_IO_OUT) e |= VIR_EVENT_HANDLE_WRITABLE;
  if (c & G_IO_ERR) e |= VIR_EVENT_HANDLE_ERROR;
  if (c & G_IO_HUP) e |= VIR_EVENT_HANDLE_HANGUP;
  return e;
}

gboolean DispatchHandle(GSource* source, GSourceFunc, gpointer) {
  auto* h = reinterpret_cast<HandleSource*>(source);
  const GIOCondition c = g_source_query_unix_fd(source, h->tag);
  if (c != 0) h->cb(h->watch, h->fd, ToEvents(c), h->opaque);
  return G_SOURCE_CONTINUE;
}

void FinalizeHandle(GSource* source) {
  auto* h = reinterpret_cast<HandleSource*>(source);
  if (h->ff) h->ff(h->opaque);
}

GSourceFuncs handle_funcs = {nullptr, nullptr, DispatchHandle, FinalizeHandle, nullptr, nullptr};

gint64 ReadyTime(int period_ms) {
  if (period_ms < 0) return -1;
  if (period_ms == 0) return 0;
  return g_get_monotonic_time() + static_cast<gint64>(period_ms) * 1000;
}

gboolean DispatchTimer(GSource* source, GSourceFunc, gpointer) {
  auto* t = reinterpret_cast<TimerSource*>(source);
  int period;
  {
    std::lock_guard lock(TheRegistry().mutex);
    period = t->period_ms;
  }
  if (period > 0) {
    g_source_set_ready_time(source, g_get_monotonic_time() + static_cast<gint64>(period) * 1000);
  } else if (period < 0) {
    return G_SOURCE_CONTINUE;  // disabled between becoming ready and dispatch
  }
  t->cb(t->timer, t->opaque);
  return G_SOURCE_CONTINUE;
}

void FinalizeTimer(GSource* source) {
  auto* t = reinterpret_cast<TimerSource*>(source);
  if (t->ff) t->ff(t->opaque);
}

GSourceFuncs timer_funcs = {nullptr, nullptr, DispatchTimer, FinalizeTimer, nullptr, nullptr};

// Drops the registry's reference from the loop, so that the free callback (in finalize) never
// runs inside libvirt's remove call.
void UnrefLater(GSource* source, GMainContext* context) {
  GSource* idle = g_idle_source_new();
  g_source_set_callback(idle, [](gpointer s) -> gboolean {
    g_source_unref(static_cast<GSource*>(s));
    return G_SOURCE_REMOVE;
  }, source, nullptr);
  g_source_attach(idle, context);
  g_source_unref(idle);
}

int AddHandle(int fd, int events, virEventHandleCallback cb, void* opaque, virFreeCallback ff) {
  Registry& r = TheRegistry();
  std::lock_guard lock(r.mutex);
  GSource* source = g_source_new(&handle_funcs, sizeof(HandleSource));
  auto* h = reinterpret_cast<HandleSource*>(source);
  h->watch = r.next_id++;
  h->fd = fd;
  h->cb = cb;
  h->opaque = opaque;
  h->ff = ff;
  h->tag = g_source_add_unix_fd(source, fd, ToCondition(events));
  g_source_set_name(source, "libvirt handle");
  r.handles[h->watch] = h;
  g_source_attach(source, r.context);
  return h->watch;
}

void UpdateHandle(int watch, int events) {
  Registry& r = TheRegistry();
  std::lock_guard lock(r.mutex);
  auto it = r.handles.find(watch);
  if (it == r.handles.end()) return;
  g_source_modify_unix_fd(&it->second->base, it->second->tag, ToCondition(events));
  g_main_context_wakeup(r.context);
}

int RemoveHandle(int watch) {
  Registry& r = TheRegistry();
  std::lock_guard lock(r.mutex);
  auto it = r.handles.find(watch);
  if (it == r.handles.end()) return -1;
  GSource* source = &it->second->base;
  r.handles.erase(it);
  g_source_destroy(source);
  UnrefLater(source, r.context);
  return 0;
}

int AddTimeout(int period_ms, virEventTimeoutCallback cb, void* opaque, virFreeCallback ff) {
  Registry& r = TheRegistry();
  std::lock_guard lock(r.mutex);
  GSource* source = g_source_new(&timer_funcs, sizeof(TimerSource));
  auto* t = reinterpret_cast<TimerSource*>(source);
  t->timer = r.next_id++;
  t->period_ms = period_ms;
  t->cb = cb;
  t->opaque = opaque;
  t->ff = ff;
  g_source_set_ready_time(source, ReadyTime(period_ms));
  g_source_set_name(source, "libvirt timeout");
  r.timers[t->timer] = t;
  g_source_attach(source, r.context);
  return t->timer;
}

void UpdateTimeout(int timer, int period_ms) {
  Registry& r = TheRegistry();
  std::lock_guard lock(r.mutex);
  auto it = r.timers.find(timer);
  if (it == r.timers.end()) return;
  it->second->period_ms = period_ms;
  g_source_set_ready_time(&it->second->base, ReadyTime(period_ms));
}

int RemoveTimeout(int timer) {
  Registry& r = TheRegistry();
  std::lock_guard lock(r.mutex);
  auto it = r.timers.find(timer);
  if (it == r.timers.end()) return -1;
  GSource* source = &it->second->base;
  r.timers.erase(it);
  g_source_destroy(source);
  UnrefLater(source, r.context);
  return 0;
}

}  // namespace

bool InstallGlibEventImpl(GMainContext* context) {
  Registry& r = TheRegistry();
  {
    std::lock_guard lock(r.mutex);
    if (r.context != nullptr) return r.context == context;
    r.context = g_main_context_ref(context);
  }
  virEventRegisterImpl(AddHandle, UpdateHandle, RemoveHandle, AddTimeout, UpdateTimeout, RemoveTimeout);
  return true;
}

}  // namespace memhp::daemon::libvirt
