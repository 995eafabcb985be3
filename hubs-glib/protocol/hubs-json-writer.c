/* hubs-json-writer.c: JSON text as ASP.NET Core writes it
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * ASP.NET Core writes negotiate responses, handshake responses and JSON hub
 * messages with System.Text.Json's Utf8JsonWriter, no indentation, and
 * JavaScriptEncoder.UnsafeRelaxedJsonEscaping. Clients compare none of it
 * byte for byte, but tests, logs and caches do, so we write the same bytes.
 */

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hubs-json-private.h"

void
hubs_json_write_raw (GByteArray *out,
                     const char *text)
{
  g_byte_array_append (out, (const guint8 *) text, strlen (text));
}

void
hubs_json_write_null (GByteArray *out)
{
  g_byte_array_append (out, (const guint8 *) "null", 4);
}

void
hubs_json_write_boolean (GByteArray *out,
                         gboolean    value)
{
  if (value)
    g_byte_array_append (out, (const guint8 *) "true", 4);
  else
    g_byte_array_append (out, (const guint8 *) "false", 5);
}

void
hubs_json_write_uint64 (GByteArray *out,
                        guint64     value)
{
  char buf[24];
  char *p = buf + sizeof buf;

  do
    {
      *--p = '0' + (char) (value % 10);
      value /= 10;
    }
  while (value != 0);

  g_byte_array_append (out, (const guint8 *) p, buf + sizeof buf - p);
}

void
hubs_json_write_int64 (GByteArray *out,
                       gint64      value)
{
  if (value < 0)
    {
      g_byte_array_append (out, (const guint8 *) "-", 1);
      /* Negate in unsigned arithmetic: -G_MININT64 does not fit a gint64. */
      hubs_json_write_uint64 (out, (guint64) 0 - (guint64) value);
    }
  else
    hubs_json_write_uint64 (out, (guint64) value);
}

/* Numbers */

static const char * const exponent_formats[] = {
  "%.0e", "%.1e", "%.2e", "%.3e", "%.4e", "%.5e", "%.6e", "%.7e", "%.8e",
  "%.9e", "%.10e", "%.11e", "%.12e", "%.13e", "%.14e", "%.15e", "%.16e",
};

/* Formats |value| with @precision significant digits and reports whether
 * the text reads back as the same number. g_ascii_formatd() because
 * printf follows LC_NUMERIC and would write a comma in some locales. */
static gboolean
try_digits (double    value,
            gboolean  is_float,
            int       precision,
            char     *digits,
            int      *n_digits,
            int      *exponent)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  gboolean same;
  const char *p;
  int n = 0;

  g_ascii_formatd (buf, sizeof buf, exponent_formats[precision - 1], value);

  if (is_float)
    same = (float) g_ascii_strtod (buf, NULL) == (float) value;
  else
    same = g_ascii_strtod (buf, NULL) == value;

  if (!same)
    return FALSE;

  for (p = buf; *p != 'e' && *p != '\0'; p++)
    if (g_ascii_isdigit (*p))
      digits[n++] = *p;

  /* Trailing zeros carry nothing: "1.500" is "15" with exponent 0. */
  while (n > 1 && digits[n - 1] == '0')
    n--;

  *n_digits = n;
  *exponent = *p == 'e' ? atoi (p + 1) : 0;
  return TRUE;
}

static void
write_floating (GByteArray *out,
                double      value,
                gboolean    is_float)
{
  static gsize warned = 0;
  char digits[24];
  char buf[64];
  int n_digits = 0, exponent = 0, scale, max_digits, first, last;
  gboolean normal;
  gsize len = 0;

  if (!isfinite (value))
    {
      /* System.Text.Json refuses to write NaN and infinities; a whole
       * message lost for one number would be worse than a null. */
      if (g_once_init_enter (&warned))
        {
          g_warning ("JSON has no form for NaN or infinite numbers; writing null instead");
          g_once_init_leave (&warned, 1);
        }
      hubs_json_write_null (out);
      return;
    }

  if (value == 0)
    {
      /* .NET Core 3.0 and later keep the sign of a negative zero. */
      if (signbit (value))
        g_byte_array_append (out, (const guint8 *) "-0", 2);
      else
        g_byte_array_append (out, (const guint8 *) "0", 1);
      return;
    }

  max_digits = is_float ? 9 : 17;

  /* For normal numbers, if any shorter text reads back, the correctly
   * rounded text with DIG digits is that text padded with zeros, so most
   * numbers need one attempt; subnormal ones are tried from 1 digit up. */
  normal = is_float ? fabs (value) >= FLT_MIN : fabs (value) >= DBL_MIN;
  first = normal ? (is_float ? FLT_DIG : DBL_DIG) : 1;
  last = first;
  while (last < max_digits && !try_digits (value, is_float, last, digits, &n_digits, &exponent))
    last++;
  if (last == max_digits)
    try_digits (value, is_float, max_digits, digits, &n_digits, &exponent);

  if (value < 0)
    buf[len++] = '-';

  /* .NET's "R"/"G" with the shortest round-trip digits: fixed notation
   * unless the decimal point falls past max(digits, 17) (9 for float)
   * places or more than 3 zeros would follow it. */
  scale = exponent + 1;
  if (scale > MAX (n_digits, max_digits) || scale < -3)
    {
      int e = exponent < 0 ? -exponent : exponent;

      buf[len++] = digits[0];
      if (n_digits > 1)
        {
          buf[len++] = '.';
          memcpy (buf + len, digits + 1, n_digits - 1);
          len += n_digits - 1;
        }
      len += g_snprintf (buf + len, sizeof buf - len, "E%c%02d", exponent < 0 ? '-' : '+', e);
    }
  else if (scale <= 0)
    {
      buf[len++] = '0';
      buf[len++] = '.';
      for (int i = 0; i < -scale; i++)
        buf[len++] = '0';
      memcpy (buf + len, digits, n_digits);
      len += n_digits;
    }
  else if (scale >= n_digits)
    {
      memcpy (buf + len, digits, n_digits);
      len += n_digits;
      for (int i = n_digits; i < scale; i++)
        buf[len++] = '0';
    }
  else
    {
      memcpy (buf + len, digits, scale);
      len += scale;
      buf[len++] = '.';
      memcpy (buf + len, digits + scale, n_digits - scale);
      len += n_digits - scale;
    }

  g_byte_array_append (out, (const guint8 *) buf, len);
}

void
hubs_json_write_double (GByteArray *out,
                        double      value)
{
  write_floating (out, value, FALSE);
}

void
hubs_json_write_float (GByteArray *out,
                       float       value)
{
  write_floating (out, value, TRUE);
}

/* Strings */

/* ASCII that UnsafeRelaxedJsonEscaping escapes: controls, '"', '\' and DEL.
 * Everything else in ASCII, ' < > & + ` / included, is written raw. */
static inline gboolean
ascii_needs_escape (guint8 c)
{
  return c < 0x20 || c == '"' || c == '\\' || c == 0x7f;
}

/* The encoder's global block list for the BMP: controls (C0 is handled
 * above, C1 here), surrogates, private use, unassigned code points
 * (noncharacters such as U+FFFE included), space separators other than
 * U+0020, U+2028, U+2029, and U+FEFF, the byte order mark. Characters
 * outside the BMP are always escaped, as a surrogate pair. */
static gboolean
unichar_needs_escape (gunichar c)
{
  if (c >= 0x10000)
    return TRUE;
  if (c <= 0x9f || c == 0xfeff)
    return TRUE;

  switch (g_unichar_type (c))
    {
    case G_UNICODE_CONTROL:
    case G_UNICODE_SURROGATE:
    case G_UNICODE_PRIVATE_USE:
    case G_UNICODE_UNASSIGNED:
    case G_UNICODE_SPACE_SEPARATOR:
    case G_UNICODE_LINE_SEPARATOR:
    case G_UNICODE_PARAGRAPH_SEPARATOR:
      return TRUE;
    default:
      return FALSE;
    }
}

static void
write_u_escape (GByteArray *out,
                guint       unit)
{
  static const char hex[] = "0123456789ABCDEF";
  guint8 buf[6] = { '\\', 'u', hex[(unit >> 12) & 0xf], hex[(unit >> 8) & 0xf],
                    hex[(unit >> 4) & 0xf], hex[unit & 0xf] };

  g_byte_array_append (out, buf, 6);
}

static void
write_escaped (GByteArray *out,
               gunichar    c)
{
  const char *short_form = NULL;

  switch (c)
    {
    case '\b': short_form = "\\b"; break;
    case '\t': short_form = "\\t"; break;
    case '\n': short_form = "\\n"; break;
    case '\f': short_form = "\\f"; break;
    case '\r': short_form = "\\r"; break;
    case '"': short_form = "\\\""; break;
    case '\\': short_form = "\\\\"; break;
    default: break;
    }

  if (short_form != NULL)
    g_byte_array_append (out, (const guint8 *) short_form, 2);
  else if (c >= 0x10000)
    {
      c -= 0x10000;
      write_u_escape (out, 0xd800 + (c >> 10));
      write_u_escape (out, 0xdc00 + (c & 0x3ff));
    }
  else
    write_u_escape (out, c);
}

/* Decodes one UTF-8 sequence at @p (at most @avail bytes). Returns its
 * length; *c is (gunichar) -1 for an invalid sequence, whose length is
 * then that of its maximal subpart (Unicode 15, §3.9, U+FFFD substitution),
 * as .NET's decoder counts it. */
static gsize
decode_utf8 (const guint8 *p,
             gsize         avail,
             gunichar     *c)
{
  guint8 b0 = p[0];
  guint8 lo = 0x80, hi = 0xbf;
  gsize need, i;
  gunichar value;

  if (b0 < 0x80)
    {
      *c = b0;
      return 1;
    }
  else if (b0 >= 0xc2 && b0 <= 0xdf)
    {
      need = 1;
      value = b0 & 0x1f;
    }
  else if (b0 >= 0xe0 && b0 <= 0xef)
    {
      need = 2;
      value = b0 & 0x0f;
      if (b0 == 0xe0)
        lo = 0xa0;
      else if (b0 == 0xed)
        hi = 0x9f;
    }
  else if (b0 >= 0xf0 && b0 <= 0xf4)
    {
      need = 3;
      value = b0 & 0x07;
      if (b0 == 0xf0)
        lo = 0x90;
      else if (b0 == 0xf4)
        hi = 0x8f;
    }
  else
    {
      *c = (gunichar) -1;
      return 1;
    }

  for (i = 1; i <= need; i++)
    {
      if (i >= avail || p[i] < lo || p[i] > hi)
        {
          *c = (gunichar) -1;
          return i;
        }
      value = (value << 6) | (p[i] & 0x3f);
      lo = 0x80;
      hi = 0xbf;
    }

  *c = value;
  return need + 1;
}

void
hubs_json_write_string_len (GByteArray *out,
                            const char *str,
                            gssize      length)
{
  const guint8 *p = (const guint8 *) str;
  gsize len, i, run;

  g_return_if_fail (out != NULL);

  if (str == NULL)
    {
      hubs_json_write_null (out);
      return;
    }

  len = length < 0 ? strlen (str) : (gsize) length;

  g_byte_array_append (out, (const guint8 *) "\"", 1);

  /* Runs of bytes that need nothing are appended in one go. */
  run = 0;
  i = 0;
  while (i < len)
    {
      gunichar c;
      gsize n;

      if (p[i] < 0x80)
        {
          if (!ascii_needs_escape (p[i]))
            {
              i++;
              continue;
            }
          c = p[i];
          n = 1;
        }
      else
        {
          n = decode_utf8 (p + i, len - i, &c);
          if (c != (gunichar) -1 && !unichar_needs_escape (c))
            {
              i += n;
              continue;
            }
        }

      g_byte_array_append (out, p + run, i - run);
      if (c == (gunichar) -1)
        write_u_escape (out, 0xfffd);
      else
        write_escaped (out, c);
      i += n;
      run = i;
    }

  g_byte_array_append (out, p + run, len - run);
  g_byte_array_append (out, (const guint8 *) "\"", 1);
}

/**
 * hubs_json_write_string:
 * @out: where to append
 * @str: (nullable): UTF-8 text
 *
 * Appends @str as a JSON string, escaped as ASP.NET Core escapes it
 * (JavaScriptEncoder.UnsafeRelaxedJsonEscaping), or `null` when @str is
 * %NULL.
 */
void
hubs_json_write_string (GByteArray *out,
                        const char *str)
{
  hubs_json_write_string_len (out, str, -1);
}

void
hubs_json_write_base64 (GByteArray   *out,
                        const guint8 *data,
                        gsize         length)
{
  gsize old_len = out->len;
  gsize max_len = (length / 3 + 1) * 4 + 4;
  int state = 0, save = 0;
  gsize written;

  g_byte_array_append (out, (const guint8 *) "\"", 1);
  g_byte_array_set_size (out, old_len + 1 + max_len);
  written = g_base64_encode_step (data, length, FALSE, (char *) out->data + old_len + 1, &state, &save);
  written += g_base64_encode_close (FALSE, (char *) out->data + old_len + 1 + written, &state, &save);
  g_byte_array_set_size (out, old_len + 1 + written);
  g_byte_array_append (out, (const guint8 *) "\"", 1);
}
