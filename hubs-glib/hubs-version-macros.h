/* hubs-version-macros.h: symbol visibility
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (__HUBS_INSIDE__) && !defined (HUBS_COMPILATION)
#error "Only <hubs-glib/hubs.h> can be included directly."
#endif

#include <glib.h>

#ifndef _HUBS_EXTERN
#define _HUBS_EXTERN __attribute__((visibility ("default"))) extern
#endif

#define HUBS_AVAILABLE_IN_ALL _HUBS_EXTERN
