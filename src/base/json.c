#include "base/json.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static void json_flush(struct json *j)
{
	if (j->len)
		fwrite(j->buf, 1, j->len, j->f);
	j->len = 0;
}

/* Room for N more bytes in the buffer (N <= JSON_BUF). */
static inline void json_reserve(struct json *j, size_t n)
{
	if (j->len + n > sizeof(j->buf))
		json_flush(j);
}

static void json_put(struct json *j, const char *s, size_t n)
{
	if (j->len + n > sizeof(j->buf)) {
		json_flush(j);
		if (n > sizeof(j->buf)) {
			fwrite(s, 1, n, j->f);
			return;
		}
	}
	memcpy(j->buf + j->len, s, n);
	j->len += n;
}

static inline void json_putc(struct json *j, char c)
{
	if (j->len == sizeof(j->buf))
		json_flush(j);
	j->buf[j->len++] = c;
}

/* Digits of V in BASE, written backwards from END (not terminated);
 * returns the start.  Decimal two digits at a time: a million-SPTE listing
 * formats tens of millions of numbers. */
static char *json_utoa(uint64_t v, unsigned base, char *end)
{
	static const char digits[] = "0123456789abcdef";
	static const char pairs[] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
				    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
				    "8081828384858687888990919293949596979899";
	if (base == 16) {
		do {
			*--end = digits[v & 15];
			v >>= 4;
		} while (v);
		return end;
	}
	while (v >= 100) {
		unsigned r = (unsigned)(v % 100);
		v /= 100;
		*--end = pairs[2 * r + 1];
		*--end = pairs[2 * r];
	}
	if (v >= 10) {
		*--end = pairs[2 * v + 1];
		*--end = pairs[2 * v];
	} else {
		*--end = (char)('0' + v);
	}
	return end;
}

void json_init(struct json *j, FILE *f, bool pretty)
{
	j->f = f;
	j->pretty = pretty;
	j->depth = 0;
	j->first[0] = true;
	j->after_key = false;
	j->lines = false;
	j->record = NULL;
	j->len = 0;
}

void json_flush_out(struct json *j)
{
	json_flush(j);
}

static void json_indent(struct json *j)
{
	if (!j->pretty)
		return;
	json_putc(j, '\n');
	for (int i = 0; i < j->depth; i++)
		json_put(j, "  ", 2);
}

/* Separator before a value (or key) at the current depth. */
static inline void json_sep(struct json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (!j->first[j->depth])
		json_putc(j, j->lines && !j->depth ? '\n' : ',');
	j->first[j->depth] = false;
	if (j->depth > 0)
		json_indent(j);
}

static void json_open(struct json *j, char c)
{
	json_sep(j);
	json_putc(j, c);
	if (j->depth < JSON_MAX_DEPTH - 1)
		j->depth++;
	j->first[j->depth] = true;
}

static void json_close(struct json *j, char c)
{
	bool empty = j->first[j->depth];
	if (j->depth > 0)
		j->depth--;
	if (!empty)
		json_indent(j);
	json_putc(j, c);
}

void json_obj_begin(struct json *j)
{
	json_open(j, '{');
	if (j->record && j->depth == 1) {
		json_key_any(j, "record");
		json_str(j, j->record);
	}
}
void json_obj_end(struct json *j) { json_close(j, '}'); }
void json_arr_begin(struct json *j) { json_open(j, '['); }
void json_arr_end(struct json *j) { json_close(j, ']'); }

/* Bytes that go into a JSON string as they are. */
static const bool json_plain[256] = {
	[0x20] = 1, 1, 0 /* '"' */, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x20-0x2f */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0 /* '\\' */, 1, 1, 1,	/* 0x50-0x5f */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, /* 0x60-0x7f */
};

/* Length of the valid UTF-8 sequence at P (lead byte >= 0x80), 0 if
 * invalid: no overlong forms, no surrogates, nothing above U+10FFFF. */
static size_t json_utf8_len(const unsigned char *p)
{
	unsigned c = p[0], n, min;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, min = 0x80;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, min = 0x800;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, min = 0x10000;
	else
		return 0;
	uint32_t cp = c & (0x7f >> n);
	for (unsigned i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80) /* also stops at the terminating NUL */
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

static void json_raw_str(struct json *j, const char *s)
{
	json_putc(j, '"');
	const unsigned char *p = (const unsigned char *)s;
	for (;;) {
		/* Plain bytes straight into the buffer, a bounded run at a time. */
		json_reserve(j, 64);
		char *o = j->buf + j->len, *lim = o + 64;
		while (o < lim && json_plain[*p])
			*o++ = (char)*p++;
		j->len = (size_t)(o - j->buf);
		if (o == lim)
			continue;
		if (!*p)
			break;
		/* Dump strings are untrusted bytes: quotes, backslashes and
		 * controls are escaped, valid UTF-8 goes through as it is, and
		 * each byte that is not part of valid UTF-8 becomes \udcXX (XX the
		 * byte; Python's "surrogateescape", lossless and never a real
		 * character), so the output is always valid JSON in UTF-8. */
		char esc[8];
		size_t u = *p >= 0x80 ? json_utf8_len(p) : 0;
		if (u) {
			json_put(j, (const char *)p, u);
			p += u;
			continue;
		}
		if (*p == '"' || *p == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*p;
			json_put(j, esc, 2);
		} else {
			snprintf(esc, sizeof(esc), "\\u%04x", *p >= 0x80 ? 0xdc00u + *p : *p);
			json_put(j, esc, 6);
		}
		p++;
	}
	json_putc(j, '"');
}

void json_key_lit_slow(struct json *j, const char *key, size_t len)
{
	if (len > 200) { /* never for an identifier; stay within the buffer */
		json_key_any(j, key);
		return;
	}
	json_sep(j);
	json_reserve(j, len + 4);
	char *o = j->buf + j->len;
	*o++ = '"';
	memcpy(o, key, len);
	o += len;
	*o++ = '"';
	*o++ = ':';
	if (j->pretty)
		*o++ = ' ';
	j->len = (size_t)(o - j->buf);
	j->after_key = true;
}

void json_key_any(struct json *j, const char *key)
{
	json_sep(j);
	json_raw_str(j, key);
	if (j->pretty)
		json_put(j, ": ", 2);
	else
		json_putc(j, ':');
	j->after_key = true;
}

void json_str(struct json *j, const char *s)
{
	json_sep(j);
	json_raw_str(j, s);
}

static inline unsigned json_dec_len(uint64_t v)
{
	unsigned n = 1;
	while (v >= 10) {
		v /= 10;
		n++;
	}
	return n;
}

/* Numbers are formatted in place: no copy, no call per value. */
void json_u64(struct json *j, uint64_t v)
{
	json_sep(j);
	json_reserve(j, 24);
	unsigned n = json_dec_len(v);
	json_utoa(v, 10, j->buf + j->len + n);
	j->len += n;
}

void json_i64(struct json *j, int64_t v)
{
	char buf[24], *e = buf + sizeof(buf);
	char *b = json_utoa(v < 0 ? -(uint64_t)v : (uint64_t)v, 10, e);
	if (v < 0)
		*--b = '-';
	json_sep(j);
	json_put(j, b, (size_t)(e - b));
}

void json_hex(struct json *j, uint64_t v)
{
	json_sep(j);
	json_reserve(j, 24);
	unsigned n = v ? (unsigned)(67 - __builtin_clzll(v)) / 4 : 1; /* hex digits */
	char *o = j->buf + j->len;
	o[0] = '"';
	o[1] = '0';
	o[2] = 'x';
	json_utoa(v, 16, o + 3 + n);
	o[3 + n] = '"';
	j->len += n + 4;
}

void json_bool(struct json *j, bool v)
{
	json_sep(j);
	json_reserve(j, 5);
	memcpy(j->buf + j->len, v ? "true" : "false", 5); /* 5 bytes are there */
	j->len += v ? 4 : 5;
}

void json_null(struct json *j)
{
	json_sep(j);
	json_put(j, "null", 4);
}

void json_end(struct json *j)
{
	json_putc(j, '\n');
	json_flush(j);
}

void json_str_or_null(struct json *j, const char *s)
{
	if (s)
		json_str(j, s);
	else
		json_null(j);
}
