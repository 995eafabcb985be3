/* interop-jwt.c: the HS256 tokens of /generateJwtToken and the users of
 * the interop server's hubs
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * JSON Web Tokens (RFC 7519) are issued and checked by hand, as
 * tests/aspnetcore-interop/Jwt.cs does: the contract needs only HS256 with a
 * key random per process, and the error texts are the ones JwtBearer gives
 * in ASP.NET Core.
 */

#include "interop-server.h"

#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>

#define JWT_ISSUER "SignalRTestServer"
#define JWT_AUDIENCE "SignalRTests"
#define JWT_KEY_SIZE 32
#define JWT_DIGEST_SIZE 32

/* What JwtBearer allows by default between a token's times and the clock */
#define JWT_CLOCK_SKEW_SECONDS (5 * 60)

/* The inbound claim types of JwtSecurityTokenHandler that hubs-glib has no
 * macro for. */
#define CLAIM_TYPE_EMAIL "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"

struct _InteropJwtKey
{
  guint8 bytes[JWT_KEY_SIZE];
};

InteropJwtKey *
interop_jwt_key_new (void)
{
  InteropJwtKey *key = g_new0 (InteropJwtKey, 1);
  gboolean filled = FALSE;
  FILE *urandom;

  urandom = fopen ("/dev/urandom", "rb");
  if (urandom != NULL)
    {
      filled = fread (key->bytes, 1, sizeof key->bytes, urandom) == sizeof key->bytes;
      fclose (urandom);
    }

  if (!filled)
    {
      /* GLib's generator is not a cryptographic one, but the key only has to
       * differ between runs of a test server. */
      g_warning ("Cannot read /dev/urandom; signing tokens with a key from g_random_int()");
      for (gsize i = 0; i < sizeof key->bytes; i++)
        key->bytes[i] = g_random_int_range (0, 256);
    }

  return key;
}

void
interop_jwt_key_free (InteropJwtKey *key)
{
  g_free (key);
}

static char *
base64url_encode (const guint8 *data,
                  gsize         length)
{
  char *text = g_base64_encode (data, length);

  for (char *p = text; *p != '\0'; p++)
    {
      if (*p == '+')
        *p = '-';
      else if (*p == '/')
        *p = '_';
      else if (*p == '=')
        {
          *p = '\0';
          break;
        }
    }

  return text;
}

/* Returns NULL unless @text is base64url without padding, as a JWT has it:
 * g_base64_decode() itself skips what is not base64. */
static GBytes *
base64url_decode (const char *text)
{
  gsize length = strlen (text);
  g_autoptr(GString) standard = NULL;
  guchar *data;
  gsize data_length = 0;

  if (length % 4 == 1)
    return NULL;

  standard = g_string_sized_new (length + 3);
  for (gsize i = 0; i < length; i++)
    {
      char c = text[i];

      if (g_ascii_isalnum (c))
        g_string_append_c (standard, c);
      else if (c == '-')
        g_string_append_c (standard, '+');
      else if (c == '_')
        g_string_append_c (standard, '/');
      else
        return NULL;
    }
  while (standard->len % 4 != 0)
    g_string_append_c (standard, '=');

  data = g_base64_decode (standard->str, &data_length);
  return g_bytes_new_take (data, data_length);
}

static void
sign (InteropJwtKey *key,
      const char    *signing_input,
      guint8         digest[JWT_DIGEST_SIZE])
{
  g_autoptr(GHmac) hmac = g_hmac_new (G_CHECKSUM_SHA256, key->bytes, sizeof key->bytes);
  gsize digest_length = JWT_DIGEST_SIZE;

  g_hmac_update (hmac, (const guchar *) signing_input, strlen (signing_input));
  g_hmac_get_digest (hmac, digest, &digest_length);
  g_assert (digest_length == JWT_DIGEST_SIZE);
}

/* Compares every byte whatever the first difference, so that the time taken
 * tells an attacker nothing about how much of a forged signature is right. */
static gboolean
equal_in_constant_time (const guint8 *a,
                        const guint8 *b,
                        gsize         length)
{
  volatile guint8 difference = 0;

  for (gsize i = 0; i < length; i++)
    difference |= a[i] ^ b[i];

  return difference == 0;
}

char *
interop_jwt_key_issue (InteropJwtKey *key,
                       const char    *name_identifier,
                       gint64         lifetime_seconds)
{
  static const char header[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) payload = NULL;
  g_autofree char *payload_json = NULL;
  g_autofree char *header_part = NULL;
  g_autofree char *payload_part = NULL;
  g_autofree char *signing_input = NULL;
  g_autofree char *signature_part = NULL;
  guint8 digest[JWT_DIGEST_SIZE];

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "nameid");
  json_builder_add_string_value (builder, name_identifier);
  json_builder_set_member_name (builder, "nbf");
  json_builder_add_int_value (builder, now);
  json_builder_set_member_name (builder, "exp");
  json_builder_add_int_value (builder, now + lifetime_seconds);
  json_builder_set_member_name (builder, "iat");
  json_builder_add_int_value (builder, now);
  json_builder_set_member_name (builder, "iss");
  json_builder_add_string_value (builder, JWT_ISSUER);
  json_builder_set_member_name (builder, "aud");
  json_builder_add_string_value (builder, JWT_AUDIENCE);
  json_builder_end_object (builder);
  payload = json_builder_get_root (builder);
  payload_json = json_to_string (payload, FALSE);

  header_part = base64url_encode ((const guint8 *) header, strlen (header));
  payload_part = base64url_encode ((const guint8 *) payload_json, strlen (payload_json));
  signing_input = g_strconcat (header_part, ".", payload_part, NULL);
  sign (key, signing_input, digest);
  signature_part = base64url_encode (digest, sizeof digest);

  return g_strconcat (signing_input, ".", signature_part, NULL);
}

static JsonNode *
parse_json (GBytes *bytes)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  gsize length = 0;
  const char *data = g_bytes_get_data (bytes, &length);

  if (length == 0 || !json_parser_load_from_data (parser, data, length, NULL))
    return NULL;

  return json_parser_steal_root (parser);
}

static gboolean
get_number (JsonObject *object,
            const char *member,
            gint64     *value)
{
  JsonNode *node = json_object_get_member (object, member);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
    return FALSE;

  switch (json_node_get_value_type (node))
    {
    case G_TYPE_INT64:
      *value = json_node_get_int (node);
      return TRUE;
    case G_TYPE_DOUBLE:
      *value = (gint64) json_node_get_double (node);
      return TRUE;
    default:
      return FALSE;
    }
}

/* JwtSecurityTokenHandler's default inbound claim type map, as far as the
 * reference uses it */
static const char *
claim_type_for (const char *member)
{
  if (g_str_equal (member, "nameid") || g_str_equal (member, "sub"))
    return HUBS_CLAIM_TYPE_NAME_IDENTIFIER;
  if (g_str_equal (member, "unique_name"))
    return HUBS_CLAIM_TYPE_NAME;
  if (g_str_equal (member, "email"))
    return CLAIM_TYPE_EMAIL;
  if (g_str_equal (member, "role"))
    return HUBS_CLAIM_TYPE_ROLE;
  return member;
}

static void
add_claim (HubsUser   *user,
           const char *type,
           JsonNode   *value)
{
  g_autofree char *text = NULL;

  if (JSON_NODE_HOLDS_VALUE (value) && json_node_get_value_type (value) == G_TYPE_STRING)
    text = g_strdup (json_node_get_string (value));
  else
    text = json_to_string (value, FALSE);

  hubs_user_add_claim (user, type, text);
}

static gpointer
token_error (GError     **error,
             const char  *message)
{
  g_set_error_literal (error, HUBS_ERROR, HUBS_ERROR_UNAUTHORIZED, message);
  return NULL;
}

HubsUser *
interop_jwt_key_validate (InteropJwtKey *key,
                          const char    *token,
                          GError       **error)
{
  g_auto(GStrv) parts = g_strsplit (token, ".", -1);
  g_autoptr(GBytes) header_bytes = NULL;
  g_autoptr(GBytes) payload_bytes = NULL;
  g_autoptr(GBytes) signature = NULL;
  g_autoptr(JsonNode) header = NULL;
  g_autoptr(JsonNode) payload = NULL;
  g_autofree char *signing_input = NULL;
  guint8 expected[JWT_DIGEST_SIZE];
  JsonObject *claims;
  JsonObjectIter iter;
  const char *member;
  JsonNode *value;
  const char *alg;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  gint64 expires;
  gint64 not_before;
  HubsUser *user;

  if (g_strv_length (parts) != 3)
    return token_error (error, "The token is malformed");

  header_bytes = base64url_decode (parts[0]);
  payload_bytes = base64url_decode (parts[1]);
  signature = base64url_decode (parts[2]);
  if (header_bytes == NULL || payload_bytes == NULL || signature == NULL)
    return token_error (error, "The token is malformed");

  header = parse_json (header_bytes);
  if (header == NULL)
    return token_error (error, "The token is malformed");
  alg = JSON_NODE_HOLDS_OBJECT (header)
        ? json_object_get_string_member_with_default (json_node_get_object (header), "alg", NULL)
        : NULL;
  if (g_strcmp0 (alg, "HS256") != 0)
    return token_error (error, "The signature key was not found");

  signing_input = g_strconcat (parts[0], ".", parts[1], NULL);
  sign (key, signing_input, expected);
  if (g_bytes_get_size (signature) != sizeof expected ||
      !equal_in_constant_time (g_bytes_get_data (signature, NULL), expected, sizeof expected))
    return token_error (error, "The signature is invalid");

  payload = parse_json (payload_bytes);
  if (payload == NULL || !JSON_NODE_HOLDS_OBJECT (payload))
    return token_error (error, "The token is malformed");
  claims = json_node_get_object (payload);

  if (!get_number (claims, "exp", &expires))
    return token_error (error, "The token has no expiration");
  if (expires + JWT_CLOCK_SKEW_SECONDS < now)
    {
      g_autoptr(GDateTime) expiry = g_date_time_new_from_unix_utc (expires);
      g_autofree char *expiry_text = expiry ? g_date_time_format (expiry, "%m/%d/%Y %H:%M:%S") : NULL;

      g_set_error (error, HUBS_ERROR, HUBS_ERROR_UNAUTHORIZED,
                   "The token expired at '%s'", expiry_text ? expiry_text : "?");
      return NULL;
    }
  if (get_number (claims, "nbf", &not_before) && not_before - JWT_CLOCK_SKEW_SECONDS > now)
    return token_error (error, "The token is not valid yet");

  user = hubs_user_new ("Bearer");
  json_object_iter_init_ordered (&iter, claims);
  while (json_object_iter_next_ordered (&iter, &member, &value))
    {
      const char *type = claim_type_for (member);

      if (JSON_NODE_HOLDS_ARRAY (value))
        {
          JsonArray *items = json_node_get_array (value);

          for (guint i = 0; i < json_array_get_length (items); i++)
            add_claim (user, type, json_array_get_element (items, i));
        }
      else
        {
          add_claim (user, type, value);
        }
    }

  return user;
}

/* The hubs whose requests the reference's authentication handler looks at:
 * /echo is no hub and stays anonymous. */
static const char * const jwt_hub_paths[] = {
  "/testhub",
  "/testhub-nowebsockets",
  "/uncreatable",
  "/authorizedhub",
};

static gboolean
is_jwt_hub_path (const char *path)
{
  for (gsize i = 0; i < G_N_ELEMENTS (jwt_hub_paths); i++)
    if (interop_path_is_under (path, jwt_hub_paths[i]))
      return TRUE;

  return FALSE;
}

HubsUser *
interop_authenticate (HubsServer       *server,
                      HubsHttpContext  *request,
                      const char       *access_token,
                      GError          **error,
                      gpointer          user_data)
{
  InteropJwtKey *key = user_data;
  const char *path = hubs_http_context_get_path (request);
  g_autoptr(GError) local_error = NULL;
  HubsUser *user;

  if (access_token == NULL || *access_token == '\0')
    return NULL;

  /* Part B: the token is the user's name */
  if (interop_path_is_under (path, "/featurehub"))
    {
      user = hubs_user_new ("Bearer");
      hubs_user_add_claim (user, HUBS_CLAIM_TYPE_NAME_IDENTIFIER, access_token);
      hubs_user_add_claim (user, HUBS_CLAIM_TYPE_NAME, access_token);
      return user;
    }

  if (interop_path_is_under (path, "/filteredhub") || interop_path_is_under (path, "/adminhub"))
    return interop_filtered_hub_user (access_token);

  if (!is_jwt_hub_path (path))
    return NULL;

  user = interop_jwt_key_validate (key, access_token, &local_error);
  if (user != NULL)
    return user;

  /* Only /authorizedhub requires a user. Elsewhere a rejected token leaves
   * the request anonymous, as a failed authentication does in ASP.NET Core
   * on an endpoint without [Authorize]. */
  if (interop_path_is_under (path, "/authorizedhub"))
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }

  g_debug ("Ignoring a rejected token on %s: %s", path, local_error->message);
  return NULL;
}
