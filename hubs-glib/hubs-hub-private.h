/* hubs-hub-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "hubs-hub.h"
#include "hubs-hub-protocol-private.h"

G_BEGIN_DECLS

typedef struct _HubsConnectionContext HubsConnectionContext;

/* A hub method: a signal of the hub class whose first parameter is the
 * HubsInvocation (or, for a streaming method, the HubsStreamWriter) and whose
 * return type is gboolean (handled). */
typedef struct
{
  char *name;                   /* the signal name */
  char *wire_name;              /* what clients call */
  guint signal_id;
  GType return_type;            /* G_TYPE_INVALID: not declared; a
                                 * streaming method's item type */
  gboolean streaming;           /* the first parameter is a HubsStreamWriter */
  guint n_params;
  HubsParamType *params;        /* without the invocation; an upload stream
                                 * is HUBS_TYPE_STREAM_READER here */
  HubsParamType *upload_items;  /* [n_params]: the item type of each upload
                                 * stream parameter */
  guint n_args;                 /* the parameters bound from arguments */
  HubsParamType *args;
  guint n_uploads;
} HubsMethodInfo;

/* Looks a wire name up case-insensitively, as ASP.NET Core does. */
const HubsMethodInfo *hubs_hub_type_lookup_method (GType       hub_type,
                                                   const char *wire_name);
/* Checks the hub type's methods once (at map time) and logs what is wrong. */
gboolean              hubs_hub_type_check_methods (GType       hub_type,
                                                   GError    **error);

HubsHub *hubs_hub_new_for_connection (GType                  hub_type,
                                      HubsConnectionContext *connection);

G_END_DECLS
