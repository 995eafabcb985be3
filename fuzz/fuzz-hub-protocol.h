/* fuzz-hub-protocol.h: one libFuzzer target body for any hub protocol
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The input is what a client could send after its handshake: the protocol
 * splits it into messages as the connection would, and every message is
 * bound as hub code would bind it (any value, a string, an integer) and
 * written back, so that the readers, the binders and the writers all see
 * hostile data. A failure must be a GError; anything else the sanitizers
 * catch is a bug.
 */

#pragma once

#include <glib-object.h>

#include "hubs-error.h"
#include "hubs-hub-protocol-private.h"

/* SignalR's default MaximumReceiveMessageSize. */
#define FUZZ_MAX_MESSAGE_SIZE 32768

static void
fuzz_bind (const HubsHubProtocol *protocol,
           HubsHubMessage        *message)
{
  const HubsParamType types[] = {
    { G_TYPE_VARIANT, NULL },
    { G_TYPE_STRING, NULL },
    { G_TYPE_INT, NULL },
    { G_TYPE_BYTES, NULL },
    { G_TYPE_DATE_TIME, NULL },
  };
  GValue values[G_N_ELEMENTS (types)] = { G_VALUE_INIT, };
  guint n = MIN (message->n_wire_arguments, G_N_ELEMENTS (types));

  if (protocol->bind_arguments (message, n, types, values, NULL))
    {
      g_autoptr(HubsHubMessage) echo = hubs_hub_message_new_invocation (NULL, "Echo", n, values);
      g_autoptr(GByteArray) out = g_byte_array_new ();

      protocol->write_message (echo, out);
      for (guint i = 0; i < n; i++)
        g_value_unset (&values[i]);
    }

  for (guint i = 0; i < G_N_ELEMENTS (types); i++)
    {
      g_auto(GValue) value = G_VALUE_INIT;

      if (protocol->bind_value (message, &types[i], &value, NULL))
        {
          g_autoptr(HubsHubMessage) item = hubs_hub_message_new_stream_item ("1", &value);
          g_autoptr(GByteArray) out = g_byte_array_new ();

          protocol->write_message (item, out);
        }
    }
}

static int
fuzz_hub_protocol (const HubsHubProtocol *protocol,
                   const guint8          *data,
                   gsize                  size)
{
  gsize offset = 0;

  while (offset < size)
    {
      g_autoptr(HubsHubMessage) message = NULL;
      g_autoptr(GError) error = NULL;
      gsize consumed = 0;

      message = protocol->parse_message (data + offset, size - offset, FUZZ_MAX_MESSAGE_SIZE,
                                         &consumed, &error);
      if (error != NULL)
        {
          g_assert (error->domain == HUBS_ERROR && error->message[0] != '\0');
          g_assert (message == NULL);
          break;
        }
      if (consumed == 0)
        {
          g_assert (message == NULL);
          break;
        }
      g_assert (consumed <= size - offset);
      offset += consumed;

      if (message != NULL)
        fuzz_bind (protocol, message);
    }

  return 0;
}
