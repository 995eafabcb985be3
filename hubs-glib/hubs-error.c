/* hubs-error.c: the error domains
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "hubs-error.h"

/**
 * hubs_hub_error_quark:
 *
 * The quark of the [error@Hubs.HubError] domain, the one whose messages
 * reach the client.
 *
 * In C, use the `HUBS_HUB_ERROR` macro.
 *
 * Returns: the error domain's quark
 *
 * Since: 0.1
 */
G_DEFINE_QUARK (hubs-hub-error-quark, hubs_hub_error)

/**
 * hubs_error_quark:
 *
 * The quark of the [error@Hubs.Error] domain, hubs-glib's own errors.
 *
 * In C, use the `HUBS_ERROR` macro.
 *
 * Returns: the error domain's quark
 *
 * Since: 0.1
 */
G_DEFINE_QUARK (hubs-error-quark, hubs_error)
