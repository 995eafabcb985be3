/* hubs-log.c: the library's structured log records
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "hubs-log-private.h"

#include <stdarg.h>

const char *
hubs_log_transport_name (HubsTransportType transport)
{
  switch (transport)
    {
    case HUBS_TRANSPORT_WEB_SOCKETS:
      return "WebSockets";
    case HUBS_TRANSPORT_SERVER_SENT_EVENTS:
      return "ServerSentEvents";
    case HUBS_TRANSPORT_LONG_POLLING:
      return "LongPolling";
    default:
      return NULL;
    }
}

static const char *
priority (GLogLevelFlags level)
{
  /* syslog(3) priorities, as g_log_structured() gives them */
  if (level & G_LOG_LEVEL_ERROR)
    return "3";
  if (level & G_LOG_LEVEL_CRITICAL)
    return "4";
  if (level & G_LOG_LEVEL_WARNING)
    return "4";
  if (level & G_LOG_LEVEL_MESSAGE)
    return "5";
  if (level & G_LOG_LEVEL_INFO)
    return "6";
  return "7";
}

static void
add_field (GLogField  *fields,
           gsize      *n_fields,
           const char *key,
           const char *value)
{
  if (value == NULL)
    return;

  fields[*n_fields].key = key;
  fields[*n_fields].value = value;
  fields[*n_fields].length = -1;
  (*n_fields)++;
}

void
hubs_log_event (GLogLevelFlags     level,
                const char        *event,
                const char        *connection_id,
                const char        *hub,
                const char        *method,
                HubsTransportType  transport,
                const char        *format,
                ...)
{
  g_autofree char *message = NULL;
  GLogField fields[8];
  gsize n_fields = 0;
  va_list args;

  /* Records are rare (a connection's start and end, failures), so the
   * message is formatted whether or not a writer keeps it: a writer of the
   * application's may want every record. */
  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  add_field (fields, &n_fields, "GLIB_DOMAIN", G_LOG_DOMAIN);
  add_field (fields, &n_fields, "PRIORITY", priority (level));
  add_field (fields, &n_fields, "MESSAGE", message);
  add_field (fields, &n_fields, "HUBS_EVENT", event);
  add_field (fields, &n_fields, "CONNECTION_ID", connection_id);
  add_field (fields, &n_fields, "HUB", hub);
  add_field (fields, &n_fields, "METHOD", method);
  add_field (fields, &n_fields, "TRANSPORT", hubs_log_transport_name (transport));

  g_log_structured_array (level, fields, n_fields);
}
