/* hubs-transport.c: the abstract transport
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The base class holds what every transport shares: the callbacks of the
 * layer above, the transport type and transfer format, and the guarantee
 * that "closed" is reported once. The public wrappers refuse work once the
 * transport has reported its end, so implementations need not check again.
 */

#include "hubs-transport-private.h"
#include "hubs-enums.h"
#include "hubs-metrics-private.h"

#include <string.h>

typedef struct
{
  HubsTransportCallbacks callbacks;
  gpointer user_data;
  HubsTransportType transport_type;
  HubsTransferFormat transfer_format;
  gboolean closed;
  HubsMetricsTracker metrics;
} HubsTransportPrivate;

G_DEFINE_ABSTRACT_TYPE_WITH_PRIVATE (HubsTransport, hubs_transport, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_TRANSPORT_TYPE,
  PROP_TRANSFER_FORMAT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
hubs_transport_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  HubsTransport *self = HUBS_TRANSPORT (object);
  HubsTransportPrivate *priv = hubs_transport_get_instance_private (self);

  switch (prop_id)
    {
    case PROP_TRANSPORT_TYPE:
      g_value_set_flags (value, priv->transport_type);
      break;

    case PROP_TRANSFER_FORMAT:
      g_value_set_enum (value, priv->transfer_format);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hubs_transport_set_property (GObject      *object,
                             guint         prop_id,
                             const GValue *value,
                             GParamSpec   *pspec)
{
  HubsTransport *self = HUBS_TRANSPORT (object);
  HubsTransportPrivate *priv = hubs_transport_get_instance_private (self);

  switch (prop_id)
    {
    case PROP_TRANSPORT_TYPE:
      priv->transport_type = g_value_get_flags (value);
      break;

    case PROP_TRANSFER_FORMAT:
      hubs_transport_set_transfer_format (self, g_value_get_enum (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hubs_transport_class_init (HubsTransportClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = hubs_transport_get_property;
  object_class->set_property = hubs_transport_set_property;

  /* One transport, so a flags value with a single bit set. */
  properties[PROP_TRANSPORT_TYPE] =
    g_param_spec_flags ("transport-type", NULL, NULL,
                        HUBS_TYPE_TRANSPORT_TYPE,
                        HUBS_TRANSPORT_NONE,
                        G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                        G_PARAM_STATIC_STRINGS);

  /* Chosen by the handshake after the transport is made, hence writable. */
  properties[PROP_TRANSFER_FORMAT] =
    g_param_spec_enum ("transfer-format", NULL, NULL,
                       HUBS_TYPE_TRANSFER_FORMAT,
                       HUBS_TRANSFER_FORMAT_TEXT,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY |
                       G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
hubs_transport_init (HubsTransport *self)
{
  HubsTransportPrivate *priv = hubs_transport_get_instance_private (self);

  priv->transfer_format = HUBS_TRANSFER_FORMAT_TEXT;
}

/* The callbacks are copied; @callbacks may be NULL to stop all callbacks,
 * and any member may be NULL. */
void
hubs_transport_set_callbacks (HubsTransport                *self,
                              const HubsTransportCallbacks *callbacks,
                              gpointer                      user_data)
{
  HubsTransportPrivate *priv;

  g_return_if_fail (HUBS_IS_TRANSPORT (self));

  priv = hubs_transport_get_instance_private (self);

  if (callbacks != NULL)
    priv->callbacks = *callbacks;
  else
    memset (&priv->callbacks, 0, sizeof priv->callbacks);
  priv->user_data = user_data;
}

void
hubs_transport_start (HubsTransport *self)
{
  HubsTransportPrivate *priv;

  g_return_if_fail (HUBS_IS_TRANSPORT (self));
  g_return_if_fail (HUBS_TRANSPORT_GET_CLASS (self)->start != NULL);

  priv = hubs_transport_get_instance_private (self);
  if (priv->closed)
    return;

  hubs_metrics_tracker_start (&priv->metrics);
  HUBS_TRANSPORT_GET_CLASS (self)->start (self);
}

/* Sending on a transport that has ended is not an error: the layer above
 * may race with the peer going away, and has the closed callback for that. */
void
hubs_transport_send (HubsTransport *self,
                     GBytes        *data)
{
  HubsTransportPrivate *priv;

  g_return_if_fail (HUBS_IS_TRANSPORT (self));
  g_return_if_fail (data != NULL);
  g_return_if_fail (HUBS_TRANSPORT_GET_CLASS (self)->send != NULL);

  priv = hubs_transport_get_instance_private (self);
  if (priv->closed)
    return;

  hubs_metrics_tracker_add (&priv->metrics, HUBS_METRICS_BYTES_SENT, g_bytes_get_size (data));
  HUBS_TRANSPORT_GET_CLASS (self)->send (self, data);
}

void
hubs_transport_close (HubsTransport *self,
                      gboolean       failed)
{
  HubsTransportPrivate *priv;

  g_return_if_fail (HUBS_IS_TRANSPORT (self));
  g_return_if_fail (HUBS_TRANSPORT_GET_CLASS (self)->close != NULL);

  priv = hubs_transport_get_instance_private (self);
  if (priv->closed)
    return;

  HUBS_TRANSPORT_GET_CLASS (self)->close (self, failed);
}

void
hubs_transport_abort (HubsTransport *self)
{
  HubsTransportPrivate *priv;

  g_return_if_fail (HUBS_IS_TRANSPORT (self));
  g_return_if_fail (HUBS_TRANSPORT_GET_CLASS (self)->abort != NULL);

  priv = hubs_transport_get_instance_private (self);
  if (priv->closed)
    return;

  HUBS_TRANSPORT_GET_CLASS (self)->abort (self);
}

void
hubs_transport_set_receiving (HubsTransport *self,
                              gboolean       receiving)
{
  HubsTransportPrivate *priv;

  g_return_if_fail (HUBS_IS_TRANSPORT (self));
  g_return_if_fail (HUBS_TRANSPORT_GET_CLASS (self)->set_receiving != NULL);

  priv = hubs_transport_get_instance_private (self);
  if (priv->closed)
    return;

  HUBS_TRANSPORT_GET_CLASS (self)->set_receiving (self, !!receiving);
}

gsize
hubs_transport_get_queued_bytes (HubsTransport *self)
{
  g_return_val_if_fail (HUBS_IS_TRANSPORT (self), 0);
  g_return_val_if_fail (HUBS_TRANSPORT_GET_CLASS (self)->get_queued_bytes != NULL, 0);

  return HUBS_TRANSPORT_GET_CLASS (self)->get_queued_bytes (self);
}

HubsTransportType
hubs_transport_get_transport_type (HubsTransport *self)
{
  HubsTransportPrivate *priv;

  g_return_val_if_fail (HUBS_IS_TRANSPORT (self), HUBS_TRANSPORT_NONE);

  priv = hubs_transport_get_instance_private (self);
  return priv->transport_type;
}

HubsTransferFormat
hubs_transport_get_transfer_format (HubsTransport *self)
{
  HubsTransportPrivate *priv;

  g_return_val_if_fail (HUBS_IS_TRANSPORT (self), HUBS_TRANSFER_FORMAT_TEXT);

  priv = hubs_transport_get_instance_private (self);
  return priv->transfer_format;
}

/* Takes effect for messages sent afterwards; messages already queued keep
 * the format they were queued with. */
void
hubs_transport_set_transfer_format (HubsTransport     *self,
                                    HubsTransferFormat format)
{
  HubsTransportPrivate *priv;

  g_return_if_fail (HUBS_IS_TRANSPORT (self));
  g_return_if_fail (format == HUBS_TRANSFER_FORMAT_TEXT ||
                    format == HUBS_TRANSFER_FORMAT_BINARY);

  priv = hubs_transport_get_instance_private (self);
  if (priv->transfer_format == format)
    return;

  priv->transfer_format = format;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TRANSFER_FORMAT]);
}

/* TRUE once the closed callback has run (or is running). A transport that
 * is closing but has not reported it yet is not closed. */
gboolean
hubs_transport_is_closed (HubsTransport *self)
{
  HubsTransportPrivate *priv;

  g_return_val_if_fail (HUBS_IS_TRANSPORT (self), TRUE);

  priv = hubs_transport_get_instance_private (self);
  return priv->closed;
}

/* Bytes received after the end was reported are dropped here, so that an
 * implementation that finishes in the middle of a buffer cannot deliver
 * past it. */
void
hubs_transport_emit_received (HubsTransport *self,
                              const guint8  *data,
                              gsize          length)
{
  HubsTransportPrivate *priv;

  g_return_if_fail (HUBS_IS_TRANSPORT (self));
  g_return_if_fail (data != NULL || length == 0);

  priv = hubs_transport_get_instance_private (self);
  if (priv->closed || length == 0 || priv->callbacks.received == NULL)
    return;

  hubs_metrics_tracker_add (&priv->metrics, HUBS_METRICS_BYTES_RECEIVED, length);
  priv->callbacks.received (priv->user_data, data, length);
}

void
hubs_transport_emit_closed (HubsTransport *self,
                            const GError  *error)
{
  HubsTransportPrivate *priv;

  g_return_if_fail (HUBS_IS_TRANSPORT (self));

  priv = hubs_transport_get_instance_private (self);
  if (priv->closed)
    return;

  /* Set before the call: a callback that sends or closes again must find
   * the transport ended. */
  priv->closed = TRUE;
  hubs_metrics_tracker_stop (&priv->metrics);

  if (priv->callbacks.closed != NULL)
    {
      /* The owner commonly drops its reference in this callback. */
      g_autoptr(HubsTransport) keep = g_object_ref (self);

      priv->callbacks.closed (priv->user_data, error);
    }
}

void
hubs_transport_emit_drained (HubsTransport *self)
{
  HubsTransportPrivate *priv;

  g_return_if_fail (HUBS_IS_TRANSPORT (self));

  priv = hubs_transport_get_instance_private (self);
  if (priv->closed || priv->callbacks.drained == NULL)
    return;

  priv->callbacks.drained (priv->user_data);
}

HubsMetricsTracker *
hubs_transport_get_metrics_tracker (HubsTransport *self)
{
  return &((HubsTransportPrivate *) hubs_transport_get_instance_private (self))->metrics;
}

gboolean
hubs_transport_has_inherent_keep_alive (HubsTransport *self)
{
  g_return_val_if_fail (HUBS_IS_TRANSPORT (self), FALSE);

  return HUBS_TRANSPORT_GET_CLASS (self)->inherent_keep_alive;
}

gboolean
hubs_transport_ended_abruptly (HubsTransport *self)
{
  HubsTransportClass *klass;

  g_return_val_if_fail (HUBS_IS_TRANSPORT (self), FALSE);

  klass = HUBS_TRANSPORT_GET_CLASS (self);
  return klass->ended_abruptly != NULL && klass->ended_abruptly (self);
}

/* Server-Sent Events carry text only: the handshake refuses a binary
 * protocol on them, as ASP.NET Core does. */
gboolean
hubs_transport_supports_format (HubsTransport     *self,
                                HubsTransferFormat format)
{
  guint formats;

  g_return_val_if_fail (HUBS_IS_TRANSPORT (self), FALSE);

  formats = HUBS_TRANSPORT_GET_CLASS (self)->supported_formats;
  return formats == 0 || (formats & format) != 0;
}

void
hubs_transport_receive_post (HubsTransport     *self,
                             SoupServerMessage *message)
{
  g_return_if_fail (HUBS_IS_TRANSPORT (self));
  g_return_if_fail (HUBS_TRANSPORT_GET_CLASS (self)->receive_post != NULL);

  HUBS_TRANSPORT_GET_CLASS (self)->receive_post (self, message);
}
