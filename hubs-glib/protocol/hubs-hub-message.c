/* hubs-hub-message.c: hub messages, the unit both hub protocols read and write
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "hubs-hub-protocol-private.h"

HubsHubMessage *
hubs_hub_message_new (HubsMessageType type)
{
  HubsHubMessage *message;

  message = g_new0 (HubsHubMessage, 1);
  g_atomic_ref_count_init (&message->ref_count);
  message->type = type;

  return message;
}

HubsHubMessage *
hubs_hub_message_ref (HubsHubMessage *message)
{
  g_return_val_if_fail (message != NULL, NULL);

  g_atomic_ref_count_inc (&message->ref_count);

  return message;
}

void
hubs_hub_message_unref (HubsHubMessage *message)
{
  g_return_if_fail (message != NULL);

  if (!g_atomic_ref_count_dec (&message->ref_count))
    return;

  g_free (message->invocation_id);
  g_free (message->target);
  g_clear_pointer (&message->headers, g_hash_table_unref);
  g_strfreev (message->stream_ids);

  for (guint i = 0; i < message->n_arguments; i++)
    if (G_IS_VALUE (&message->arguments[i]))
      g_value_unset (&message->arguments[i]);
  g_free (message->arguments);

  if (G_IS_VALUE (&message->value))
    g_value_unset (&message->value);

  g_free (message->error);

  if (message->wire_data != NULL && message->wire_data_free != NULL)
    message->wire_data_free (message->wire_data);

  g_free (message);
}

/* An unset source (G_TYPE_INVALID) stays unset: it is written as null. */
static void
copy_value (const GValue *src,
            GValue       *dest)
{
  if (src == NULL || !G_IS_VALUE (src))
    return;

  g_value_init (dest, G_VALUE_TYPE (src));
  g_value_copy (src, dest);
}

HubsHubMessage *
hubs_hub_message_new_invocation (const char   *invocation_id,
                                 const char   *target,
                                 guint         n_arguments,
                                 const GValue *arguments)
{
  HubsHubMessage *message;

  g_return_val_if_fail (target != NULL, NULL);
  g_return_val_if_fail (n_arguments == 0 || arguments != NULL, NULL);

  message = hubs_hub_message_new (HUBS_MESSAGE_INVOCATION);
  message->invocation_id = g_strdup (invocation_id);
  message->target = g_strdup (target);
  message->n_arguments = n_arguments;
  message->arguments = g_new0 (GValue, n_arguments);
  for (guint i = 0; i < n_arguments; i++)
    copy_value (&arguments[i], &message->arguments[i]);

  return message;
}

HubsHubMessage *
hubs_hub_message_new_completion (const char   *invocation_id,
                                 const GValue *result,
                                 gboolean      has_result,
                                 const char   *error)
{
  HubsHubMessage *message;

  g_return_val_if_fail (invocation_id != NULL, NULL);

  message = hubs_hub_message_new (HUBS_MESSAGE_COMPLETION);
  message->invocation_id = g_strdup (invocation_id);
  message->has_result = has_result;
  if (has_result)
    copy_value (result, &message->value);
  message->error = g_strdup (error);

  return message;
}

HubsHubMessage *
hubs_hub_message_new_stream_item (const char   *invocation_id,
                                  const GValue *item)
{
  HubsHubMessage *message;

  g_return_val_if_fail (invocation_id != NULL, NULL);

  message = hubs_hub_message_new (HUBS_MESSAGE_STREAM_ITEM);
  message->invocation_id = g_strdup (invocation_id);
  message->has_result = TRUE;
  copy_value (item, &message->value);

  return message;
}

HubsHubMessage *
hubs_hub_message_new_close (const char *error,
                            gboolean    allow_reconnect)
{
  HubsHubMessage *message;

  message = hubs_hub_message_new (HUBS_MESSAGE_CLOSE);
  message->error = g_strdup (error);
  message->allow_reconnect = allow_reconnect;

  return message;
}

HubsHubMessage *
hubs_hub_message_new_ping (void)
{
  return hubs_hub_message_new (HUBS_MESSAGE_PING);
}
