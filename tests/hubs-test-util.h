/* hubs-test-util.h: what every GTest program of hubs-glib shares
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Include it once per test program; a program that uses WAIT_UNTIL()
 * defines WAIT_TIMEOUT_MS, how long it waits before the test fails
 * (generous, since a sanitizer build is slow, yet a hang must still end).
 */

#pragma once

#include <gio/gio.h>

#ifdef __SANITIZE_ADDRESS__
const char *__asan_default_options (void);

/* The system GLib has no frame pointers: with the fast unwinder, leak
 * reports stop at g_malloc() and tests/lsan.supp never matches the leaks of
 * GLib's own g_set_user_dirs(). */
const char *
__asan_default_options (void)
{
  return "fast_unwind_on_malloc=0";
}
#endif

/* Waiting on the main context, never for ever */

static inline gboolean
hubs_test_wake (gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

/* Iterates the thread-default main context until @cond holds, and fails
 * the test after WAIT_TIMEOUT_MS. */
#define WAIT_UNTIL(cond) G_STMT_START {                                      \
    gint64 deadline_ = g_get_monotonic_time () + WAIT_TIMEOUT_MS * 1000;     \
    guint wake_id_ = g_timeout_add (10, hubs_test_wake, NULL);               \
    while (!(cond))                                                          \
      {                                                                      \
        if (g_get_monotonic_time () > deadline_)                             \
          g_error ("%s:%d: timed out waiting for %s", __FILE__, __LINE__, #cond); \
        g_main_context_iteration (NULL, TRUE);                               \
      }                                                                      \
    g_source_remove (wake_id_);                                              \
  } G_STMT_END

/* Runs the main context for @msec, for things that must not happen. */
static inline void
spin (guint msec)
{
  gint64 end = g_get_monotonic_time () + (gint64) msec * 1000;
  guint wake_id = g_timeout_add (10, hubs_test_wake, NULL);

  while (g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (wake_id);
}

/* A GAsyncReadyCallback that keeps the result in *@user_data (a
 * GAsyncResult *), for WAIT_UNTIL (result != NULL). */
static inline void
got_result (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}
