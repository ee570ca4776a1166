// glib_event_impl — libvirt's event loop, implemented over a GLib main context.
//
// libvirt's client library delivers domain events, keepalives and stream data only through an
// event implementation the application provides (virEventRegisterImpl, libvirt-event.h):
// handles (an fd and the conditions to watch) and timeouts (a period in ms; -1 disabled, 0 "on
// every loop iteration"). memhpd already runs one GLib main loop, so libvirt's handles and
// timeouts become GSources on it instead of a thread spinning virEventRunDefaultImpl.
//
// libvirt takes plain function pointers without an opaque pointer, so the registry behind them
// is necessarily process-wide; it lives in this file only. It must be installed before the
// first virConnectOpen (libvirt asks for handles when it connects). libvirt may call the
// functions from any thread, so the registry is locked; callbacks run on the context's thread.
// A removed handle's or timeout's free callback runs later from the loop, never inside the
// remove call (libvirt may hold its own locks there; libvirt-event.h says so).
#pragma once

#include <glib.h>

namespace memhp::daemon::libvirt {

// Installs the implementation on `context` (once per process; a second call with another
// context is refused with false, the first stays).
[[nodiscard]] bool InstallGlibEventImpl(GMainContext* context);

}  // namespace memhp::daemon::libvirt
