/* hubs-access-token-request.c: a connection asking for an access token
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "hubs-client-private.h"

/**
 * HubsAccessTokenRequest:
 *
 * A connection's request for an access token, given to the function set
 * with [method@Hubs.Connection.set_access_token_request_func] at every
 * start and reconnect attempt: the asynchronous form of SignalR's
 * `accessTokenFactory`, for tokens that must be fetched or refreshed first.
 *
 * ```c
 * static void
 * on_refreshed (GObject      *source,
 *               GAsyncResult *result,
 *               gpointer      user_data)
 * {
 *   g_autoptr(HubsAccessTokenRequest) request = user_data;
 *   g_autoptr(GError) error = NULL;
 *   g_autofree char *token = my_auth_refresh_finish (MY_AUTH (source), result, &error);
 *
 *   if (token != NULL)
 *     hubs_access_token_request_return_token (request, token);
 *   else
 *     hubs_access_token_request_return_error (request, error);
 * }
 *
 * static void
 * request_token (HubsConnection         *connection,
 *                HubsAccessTokenRequest *request,
 *                gpointer                user_data)
 * {
 *   my_auth_refresh_async (user_data, hubs_access_token_request_get_cancellable (request),
 *                          on_refreshed, g_object_ref (request));
 * }
 * ```
 *
 * The attempt waits until the request is answered, once; an error fails
 * the attempt with it. When the attempt ends first (the connection was
 * stopped), the request's cancellable is cancelled and a late answer is
 * ignored.
 *
 * Since: 0.1
 */

struct _HubsAccessTokenRequest
{
  GObject parent_instance;

  GCancellable *cancellable;
  HubsAccessTokenReadyFunc ready;
  gpointer ready_data;
  GDestroyNotify ready_destroy;
  gboolean answered;
};

G_DEFINE_FINAL_TYPE (HubsAccessTokenRequest, hubs_access_token_request, G_TYPE_OBJECT)

static void
hubs_access_token_request_finalize (GObject *object)
{
  HubsAccessTokenRequest *self = HUBS_ACCESS_TOKEN_REQUEST (object);

  if (self->ready_destroy != NULL)
    self->ready_destroy (self->ready_data);
  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (hubs_access_token_request_parent_class)->finalize (object);
}

static void
hubs_access_token_request_class_init (HubsAccessTokenRequestClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = hubs_access_token_request_finalize;
}

static void
hubs_access_token_request_init (HubsAccessTokenRequest *self)
{
}

HubsAccessTokenRequest *
hubs_access_token_request_new (GCancellable             *cancellable,
                               HubsAccessTokenReadyFunc  ready,
                               gpointer                  ready_data,
                               GDestroyNotify            ready_destroy)
{
  HubsAccessTokenRequest *self = g_object_new (HUBS_TYPE_ACCESS_TOKEN_REQUEST, NULL);

  self->cancellable = g_object_ref (cancellable);
  self->ready = ready;
  self->ready_data = ready_data;
  self->ready_destroy = ready_destroy;
  return self;
}

static void
answer (HubsAccessTokenRequest *self,
        const char             *token,
        const GError           *error)
{
  g_autoptr(HubsAccessTokenRequest) keep = g_object_ref (self);

  g_return_if_fail (!self->answered);
  self->answered = TRUE;
  if (!g_cancellable_is_cancelled (self->cancellable))
    self->ready (token, error, self->ready_data);
}

/**
 * hubs_access_token_request_get_cancellable:
 * @self: a request
 *
 * Gets the cancellable cancelled when the attempt no longer needs the
 * token.
 *
 * Returns: (transfer none): the cancellable
 *
 * Since: 0.1
 */
GCancellable *
hubs_access_token_request_get_cancellable (HubsAccessTokenRequest *self)
{
  g_return_val_if_fail (HUBS_IS_ACCESS_TOKEN_REQUEST (self), NULL);

  return self->cancellable;
}

/**
 * hubs_access_token_request_return_token:
 * @self: a request
 * @token: (nullable): the token, or %NULL to send none
 *
 * Answers the request: the attempt goes on with @token.
 *
 * Since: 0.1
 */
void
hubs_access_token_request_return_token (HubsAccessTokenRequest *self,
                                        const char             *token)
{
  g_return_if_fail (HUBS_IS_ACCESS_TOKEN_REQUEST (self));

  answer (self, token, NULL);
}

/**
 * hubs_access_token_request_return_error:
 * @self: a request
 * @error: why there is no token
 *
 * Answers the request with an error: the attempt fails with it.
 *
 * Since: 0.1
 */
void
hubs_access_token_request_return_error (HubsAccessTokenRequest *self,
                                        const GError           *error)
{
  g_return_if_fail (HUBS_IS_ACCESS_TOKEN_REQUEST (self));
  g_return_if_fail (error != NULL);

  answer (self, NULL, error);
}
