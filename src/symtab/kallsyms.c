#define _GNU_SOURCE
#include "symtab/kallsyms.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/array.h"

#define KALLSYMS_MAX_SYMS (1u << 22)
#define KALLSYMS_MAX_NAMES (64u << 20)	/* bytes of compressed names */
#define KALLSYMS_TOKEN_TABLE_MAX 65536

/* A window onto kallsyms_names, read 64 KiB at a time: its length is not
 * recorded anywhere, so it is consumed as a stream. */
struct name_stream {
	struct dump *d;
	uint64_t base, pos;
	uint8_t buf[65536];
	uint64_t buf_start, buf_len;
};

static struct err *name_stream_fill(struct name_stream *s, uint8_t *b);

/* Inline: called once per byte of 94k compressed names. */
static inline struct err *name_stream_byte(struct name_stream *s, uint8_t *b)
{
	if (s->pos >= s->buf_start && s->pos < s->buf_start + s->buf_len &&
	    s->pos - s->base < KALLSYMS_MAX_NAMES) {
		*b = s->buf[s->pos++ - s->buf_start];
		return NULL;
	}
	return name_stream_fill(s, b);
}

static struct err *name_stream_fill(struct name_stream *s, uint8_t *b)
{
	if (s->pos - s->base >= KALLSYMS_MAX_NAMES)
		return err_new(ERR_CORRUPT, "kallsyms_names: longer than %u bytes", KALLSYMS_MAX_NAMES);
	if (s->pos < s->buf_start || s->pos >= s->buf_start + s->buf_len) {
		/* Do not read across the next page boundary we cannot see: read
		 * page by page if a bulk read fails (e.g. end of the section). */
		s->buf_start = s->pos;
		s->buf_len = sizeof(s->buf);
		struct err *e = dump_read_virt(s->d, s->pos, s->buf, sizeof(s->buf));
		if (e) {
			err_free(e);
			s->buf_len = PAGE_SIZE - (s->pos & (PAGE_SIZE - 1));
			if ((e = dump_read_virt(s->d, s->pos, s->buf, s->buf_len)))
				return err_wrap(e, "kallsyms_names");
		}
	}
	*b = s->buf[s->pos - s->buf_start];
	s->pos++;
	return NULL;
}

/* How kallsyms_offsets[i] becomes an address.  Which one a kernel uses is
 * decided by what the dump holds (the keys VMCOREINFO gives, then whether the
 * decoded table is sorted and puts VMCOREINFO's own symbols where it says),
 * never by its version. */
enum ks_enc {
	KS_ABSOLUTE,	/* kallsyms_addresses[i] (no KALLSYMS_BASE_RELATIVE) */
	KS_BASE,	/* kallsyms_relative_base + (u32)off */
	KS_BASE_PERCPU,	/* off >= 0 absolute (percpu), else base - 1 - off */
	KS_PREL,	/* &kallsyms_offsets[i] + (s32)off: no relative base */
};

static const char *const ks_enc_names[] = {
	"absolute", "base-relative", "base-relative, absolute percpu", "position-relative",
};

/* Where the tables are.  offs/rbase are one candidate pair. */
struct ks_loc {
	uint64_t names, num, ttab, tidx, markers;
	uint64_t offs, rbase, abs;
};

/* SYMBOL() entries of VMCOREINFO that are the addresses of symbols of the
 * same name (not values, as mem_section or vmemmap are). */
static const char *const ks_anchor_names[] = {
	"init_uts_ns", "_stext", "swapper_pg_dir", "init_top_pgt", "node_online_map",
	"node_data", "prb", "printk_rb_static", "clear_seq", "vmap_area_list", "log_buf",
	"kallsyms_names", "kallsyms_num_syms", "kallsyms_token_table", "kallsyms_token_index",
	"kallsyms_offsets", "kallsyms_relative_base", "kallsyms_markers",
};
#define KS_NANCHORS (sizeof(ks_anchor_names) / sizeof(ks_anchor_names[0]))
#define KS_ANCHOR_MAX_DUPS 8

struct ks_anchors {
	uint64_t want[KS_NANCHORS];		/* 0: not in VMCOREINFO */
	uint32_t idx[KS_NANCHORS][KS_ANCHOR_MAX_DUPS];	/* symbols of that name */
	unsigned nidx[KS_NANCHORS];
};

/* The LEN bytes at S's position when its window holds them all (within
 * KALLSYMS_MAX_NAMES), consumed; NULL when they must be taken byte by byte. */
static inline const uint8_t *name_stream_span(struct name_stream *s, uint32_t len)
{
	if (s->pos >= s->buf_start && s->pos + len <= s->buf_start + s->buf_len &&
	    s->pos + len - s->base <= KALLSYMS_MAX_NAMES) {
		const uint8_t *p = s->buf + (s->pos - s->buf_start);
		s->pos += len;
		return p;
	}
	return NULL;
}

#define KS_NAME_MAX 1023	/* longer names are cut there */
#define KS_SLOT 64		/* tokens up to this long are copied 16 bytes at a time */

/* The tokens expanded once, so that a name is a move or two per token
 * rather than a byte loop looking for each token's NUL: each token up to
 * KS_SLOT bytes in a slot of its own, padded with NULs. */
struct ks_tokens {
	const char *text;	/* tlen bytes and a NUL */
	uint32_t off[256], len[256];
	uint32_t longest;
	char slot[256][KS_SLOT];
};

/* L (at most KS_SLOT) bytes of SLOT to DST, which has room for KS_SLOT.
 * Unrolled: as a loop it became a rep movsq. */
static inline void ks_copy(char *dst, const char *slot, uint32_t l)
{
	memcpy(dst, slot, 16);
	if (l > 16) {
		memcpy(dst + 16, slot + 16, 16);
		if (l > 32)
			memcpy(dst + 32, slot + 32, 32);
	}
}

/* Token B appended to NAME (of *N bytes, at most KS_NAME_MAX; room for
 * KS_NAME_MAX + KS_SLOT bytes). */
static inline void ks_expand(const struct ks_tokens *T, uint8_t b, char *name, size_t *n)
{
	uint32_t l = T->len[b];
	if (l <= KS_SLOT && *n + l <= KS_NAME_MAX) {
		ks_copy(name + *n, T->slot[b], l);
	} else {
		if (l > KS_NAME_MAX - *n)
			l = (uint32_t)(KS_NAME_MAX - *n);
		memcpy(name + *n, T->text + T->off[b], l);
	}
	*n += l;
}

/* The wanted anchors by name hash, each slot an anchor's index + 1 (0:
 * empty): one probe per symbol finds the few names that are anchors. */
#define KS_ANCHOR_SLOTS 64

/* The token table and index at L into a new *OUT (its text with it). */
static struct err *ks_tokens_load(struct dump *d, const struct ks_loc *L, struct ks_tokens **out)
{
	uint16_t token_index[256];
	struct err *e;
	*out = NULL;
	if ((e = dump_read_virt(d, L->tidx, token_index, sizeof(token_index))))
		return err_wrap(e, "kallsyms_token_index");
	char *tokens = malloc(KALLSYMS_TOKEN_TABLE_MAX + 1);
	struct ks_tokens *T = calloc(1, sizeof(*T));
	if (!tokens || !T) {
		free(tokens);
		free(T);
		return err_new(ERR_NOMEM, "out of memory");
	}
	uint32_t tlen = 0;
	for (int i = 0; i < 256; i++)
		if (token_index[i] > tlen)
			tlen = token_index[i];
	tlen += 256; /* the last token's text; a token is at most a few bytes */
	if (tlen > KALLSYMS_TOKEN_TABLE_MAX)
		tlen = KALLSYMS_TOKEN_TABLE_MAX;
	if (!dump_peek(d, L->ttab, tokens, tlen)) {
		/* the text may end right before a page the dump lacks: read up to it */
		uint32_t ok = 0, step;
		for (; ok < tlen; ok += step) {
			step = (uint32_t)(PAGE_SIZE - ((L->ttab + ok) & (PAGE_SIZE - 1)));
			if (step > tlen - ok)
				step = tlen - ok;
			if (!dump_peek(d, L->ttab + ok, tokens + ok, step))
				break;
		}
		if (!ok) {
			free(tokens);
			free(T);
			return err_new(ERR_READ, "kallsyms_token_table: unreadable at 0x%llx",
				       (unsigned long long)L->ttab);
		}
		tlen = ok;
	}
	tokens[tlen] = '\0';
	T->text = tokens;
	for (int i = 0; i < 256; i++) {
		if (token_index[i] >= tlen) /* no token: it expands to nothing */
			continue;
		T->off[i] = token_index[i];
		T->len[i] = (uint32_t)strlen(tokens + token_index[i]);
		if (T->len[i] <= KS_SLOT)
			memcpy(T->slot[i], tokens + token_index[i], T->len[i]);
		if (T->len[i] > T->longest)
			T->longest = T->len[i];
	}
	*out = T;
	return NULL;
}

static void ks_tokens_free(struct ks_tokens *T)
{
	if (T)
		free((char *)T->text);
	free(T);
}

/* Decode the compressed names into T (addresses filled in later): one byte
 * of length (two with bit 7 set), then token bytes; the first character of a
 * symbol is its type letter. */
static struct err *ks_decode_names(struct dump *d, const struct ks_loc *L, uint32_t nsyms,
				   struct symtab *t, struct ks_anchors *A)
{
	struct ks_tokens *T;
	struct err *e = ks_tokens_load(d, L, &T);
	if (e)
		return e;
	struct name_stream *ns = calloc(1, sizeof(*ns));
	if (!ns) {
		e = err_new(ERR_NOMEM, "out of memory");
		goto out;
	}
	ns->d = d;
	ns->base = ns->pos = L->names;
	size_t alen[KS_NANCHORS];
	uint32_t ahash[KS_NANCHORS];
	uint8_t aslot[KS_ANCHOR_SLOTS] = { 0 };
	for (size_t a = 0; a < KS_NANCHORS; a++) {
		alen[a] = strlen(ks_anchor_names[a]);
		ahash[a] = symtab_hash(ks_anchor_names[a], alen[a]);
		if (!A->want[a])
			continue;
		size_t h = ahash[a] & (KS_ANCHOR_SLOTS - 1);
		while (aslot[h])
			h = (h + 1) & (KS_ANCHOR_SLOTS - 1);
		aslot[h] = (uint8_t)(a + 1);
	}
	char name[KS_NAME_MAX + 1 + KS_SLOT];
	for (uint32_t i = 0; i < nsyms; i++) {
		uint8_t b = 0;
		if ((e = name_stream_byte(ns, &b)))
			goto out;
		uint32_t len = b;
		if (b & 0x80) { /* long names: 2-byte length */
			if ((e = name_stream_byte(ns, &b)))
				goto out;
			len = (len & 0x7f) | ((uint32_t)b << 7);
		}
		size_t n = 0;
		const uint8_t *p = name_stream_span(ns, len);
		if (p && T->longest <= KS_SLOT && (size_t)len * T->longest <= KS_NAME_MAX) {
			/* every token in its slot and the name not cut: no checks */
			for (uint32_t k = 0; k < len; k++) {
				ks_copy(name + n, T->slot[p[k]], T->len[p[k]]);
				n += T->len[p[k]];
			}
		} else if (p) {
			for (uint32_t k = 0; k < len; k++)
				ks_expand(T, p[k], name, &n);
		} else {
			for (uint32_t k = 0; k < len; k++) {
				if ((e = name_stream_byte(ns, &b)))
					goto out;
				ks_expand(T, b, name, &n);
			}
		}
		if (n < 2) {
			e = err_new(ERR_CORRUPT, "kallsyms_names: symbol %u has an empty name", i);
			goto out;
		}
		name[n] = '\0';
		if ((e = symtab_add(t, name + 1, n - 1, 0, name[0])))
			goto out;
		uint32_t hv = t->name_hash[t->n - 1];
		for (size_t h = hv & (KS_ANCHOR_SLOTS - 1); aslot[h]; h = (h + 1) & (KS_ANCHOR_SLOTS - 1)) {
			size_t a = aslot[h] - 1u;
			if (ahash[a] == hv && alen[a] == n - 1 && A->nidx[a] < KS_ANCHOR_MAX_DUPS &&
			    !memcmp(name + 1, ks_anchor_names[a], n - 1))
				A->idx[a][A->nidx[a]++] = i;
		}
	}
out:
	ks_tokens_free(T);
	free(ns);
	return e;
}

/* Addresses of all NSYMS symbols under encoding ENC from the raw values RAW
 * (s32 offsets, or u64 for KS_ABSOLUTE). */
static void ks_addrs(enum ks_enc enc, const struct ks_loc *L, uint64_t base, const void *raw,
		     uint32_t nsyms, uint64_t *addr)
{
	for (uint32_t i = 0; i < nsyms; i++) {
		if (enc == KS_ABSOLUTE) {
			memcpy(&addr[i], (const uint8_t *)raw + 8 * (size_t)i, 8);
			continue;
		}
		int32_t off;
		memcpy(&off, (const uint8_t *)raw + 4 * (size_t)i, 4);
		switch (enc) {
		case KS_BASE:
			addr[i] = base + (uint32_t)off;
			break;
		case KS_BASE_PERCPU:
			addr[i] = off >= 0 ? (uint64_t)(int64_t)off : base - 1 - (uint64_t)(int64_t)off;
			break;
		default:
			addr[i] = L->offs + 4 * (uint64_t)i + (uint64_t)(int64_t)off;
			break;
		}
	}
}

/* The encodings to try for L's offsets, in order, into ORDER; their count.
 * Absolute addresses are what they are; with a relative base named (read
 * into *BASE) base-relative first, position-relative last; without one
 * position-relative only. */
static size_t ks_enc_order(struct dump *d, const struct ks_loc *L, uint64_t *base,
			   enum ks_enc order[3])
{
	*base = 0;
	if (!L->offs) {
		order[0] = KS_ABSOLUTE;
		return 1;
	}
	if (L->rbase && dump_peek(d, L->rbase, base, sizeof(*base))) {
		order[0] = KS_BASE_PERCPU;
		order[1] = KS_BASE;
		order[2] = KS_PREL;
		return 3;
	}
	order[0] = KS_PREL;
	return 1;
}

/* A decoding is right when kallsyms' order holds (scripts/kallsyms sorts
 * by address) and every anchor VMCOREINFO states is where the table puts a
 * symbol of that name; at least one must be there. */
static bool ks_valid(const uint64_t *addr, uint32_t nsyms, const struct ks_anchors *A)
{
	for (uint32_t i = 1; i < nsyms; i++)
		if (addr[i] < addr[i - 1])
			return false;
	unsigned matched = 0;
	for (size_t a = 0; a < KS_NANCHORS; a++) {
		if (!A->want[a] || !A->nidx[a])
			continue;
		bool hit = false;
		for (unsigned k = 0; k < A->nidx[a]; k++)
			hit |= addr[A->idx[a][k]] == A->want[a];
		if (!hit)
			return false;
		matched++;
	}
	return matched > 0;
}

/* Try each encoding the located tables allow; the first valid one wins. */
static struct err *ks_addresses(struct dump *d, const struct ks_loc *cand, size_t ncand,
				uint32_t nsyms, const struct ks_anchors *A, struct symtab *t,
				const char **enc_name)
{
	uint64_t *addr = t->addr;
	void *raw = malloc((size_t)nsyms * 8);
	if (!raw)
		return err_new(ERR_NOMEM, "out of memory");
	struct err *e = NULL;
	bool any_read = false;
	for (size_t c = 0; c < ncand; c++) {
		const struct ks_loc *L = &cand[c];
		bool absolute = !L->offs;
		if ((e = dump_read_virt(d, absolute ? L->abs : L->offs, raw,
					(size_t)nsyms * (absolute ? 8 : 4)))) {
			err_free(e);
			e = NULL;
			continue;
		}
		any_read = true;
		uint64_t base;
		enum ks_enc order[3];
		size_t norder = ks_enc_order(d, L, &base, order);
		for (size_t k = 0; k < norder; k++) {
			ks_addrs(order[k], L, base, raw, nsyms, addr);
			if (ks_valid(addr, nsyms, A)) {
				*enc_name = ks_enc_names[order[k]];
				free(raw);
				return NULL;
			}
		}
	}
	free(raw);
	if (!any_read)
		return err_new(ERR_READ, "kallsyms_offsets: unreadable at 0x%llx",
			       (unsigned long long)(cand[0].offs ? cand[0].offs : cand[0].abs));
	uint64_t want = A->want[0];
	return err_new(ERR_CORRUPT, "kallsyms: no offset encoding (absolute, base-relative, "
		       "position-relative) gives a sorted table with %s where VMCOREINFO puts it "
		       "(0x%llx)", want ? "init_uts_ns" : "its symbols", (unsigned long long)want);
}

/* --- Finding the tables by their own structure (VMCOREINFO names them only
 * from 6.0).  The token table holds the 256 tokens NUL-terminated in byte
 * order, and every character that occurs in symbol names is its own token:
 * "0".."9" stand at 0x30..0x39.  kallsyms_token_index follows it, 256 u16
 * offsets that must describe exactly those strings; kallsyms_markers (one u32
 * per 256 symbols, from 0) precedes it, kallsyms_names precedes the markers
 * and kallsyms_num_syms the names.  The offsets sit either after the token
 * index or before num_syms (with the relative base between).  All of it is
 * searched for in the kernel image only, between _stext and init_uts_ns
 * (.rodata lies between .text and .data). */

#define KS_SCAN_MAX (128u << 20)
#define KS_TOKEN_MAX 64		/* longest token accepted */
#define KS_SYM_MAX_BYTES (2 + 512)	/* length bytes + KSYM_NAME_LEN tokens */

struct ks_window {
	uint8_t *b;
	uint64_t lo, len;
};

static inline uint32_t ks_u32(const struct ks_window *w, uint64_t pos)
{
	uint32_t v;
	memcpy(&v, w->b + pos, 4);
	return v;
}

/* Length of the NUL-terminated non-empty token at POS, or 0. */
static uint64_t ks_token_len(const struct ks_window *w, uint64_t pos)
{
	for (uint64_t k = 0; k <= KS_TOKEN_MAX && pos + k < w->len; k++)
		if (!w->b[pos + k])
			return k;
	return 0;
}

/* Token table at T and its index at TI describe each other exactly. */
static bool ks_check_tokens(const struct ks_window *w, uint64_t t, uint64_t ti, uint64_t end)
{
	if (ti + 512 > w->len)
		return false;
	uint64_t pos = t;
	for (int i = 0; i < 256; i++) {
		uint16_t idx;
		memcpy(&idx, w->b + ti + 2 * i, 2);
		if (t + idx != pos)
			return false;
		uint64_t n = ks_token_len(w, pos);
		if (!n)
			return false;
		pos += n + 1;
	}
	return pos == end;
}

/* Walk COUNT symbols of names from POS; the end, or 0 if they run off. */
static uint64_t ks_walk_names(const struct ks_window *w, uint64_t pos, uint64_t count,
			      const uint32_t *markers, uint64_t names, uint64_t first)
{
	for (uint64_t i = 0; i < count; i++) {
		if (markers && (first + i) % 256 == 0 && pos - names != markers[(first + i) / 256])
			return 0;
		if (pos >= w->len)
			return 0;
		uint64_t len = w->b[pos++];
		if (len & 0x80) {
			if (pos >= w->len)
				return 0;
			len = (len & 0x7f) | ((uint64_t)w->b[pos++] << 7);
		}
		if (!len || pos + len > w->len)
			return 0;
		pos += len;
	}
	return pos;
}

/* The names before markers M (NMARK of them) at MSTART, with a count in
 * [LO_N, HI_N]: kallsyms_num_syms right before them (4 or 8 bytes), the
 * symbols at every 256th marker, the last one ending at most 7 bytes of
 * alignment before the markers.  Fills L->names/num. */
static bool ks_find_names(const struct ks_window *w, uint64_t mstart, const uint32_t *markers,
			  uint64_t nmark, uint64_t lo_n, uint64_t hi_n, struct ks_loc *L,
			  uint32_t *nsyms)
{
	uint64_t last = markers[nmark - 1];
	uint64_t qmax = mstart - 2, qmin = mstart > 256u * KS_SYM_MAX_BYTES + 8 ?
						mstart - 256u * KS_SYM_MAX_BYTES - 8 : 0;
	for (uint64_t q = qmax + 1; q-- > qmin && q >= last + 8;) {
		uint64_t s = q - last;
		for (int nb = 4; nb <= 8; nb += 4) {
			uint32_t n = ks_u32(w, s - nb);
			if (n < lo_n || n > hi_n)
				continue;
			uint64_t end = ks_walk_names(w, q, n - (nmark - 1) * 256, NULL, 0, 0);
			if (!end || end > mstart || mstart - end > 7)
				continue;
			end = ks_walk_names(w, s, n, markers, s, 0);
			if (!end || end > mstart || mstart - end > 7)
				continue;
			L->markers = w->lo + mstart;
			L->names = w->lo + s;
			L->num = w->lo + s - nb;
			*nsyms = n;
			return true;
		}
	}
	return false;
}

/* kallsyms_markers before the token table at T: u32 offsets into the names
 * from 0, each 256 symbols (at least 512 bytes) further; between them and
 * the table either alignment only, or (6.2+, and some 6.1) the 3-byte
 * kallsyms_seqs_of_names of every symbol.  Searched backwards from T. */
static bool ks_find_markers(const struct ks_window *w, uint64_t t, struct ks_loc *L,
			    uint32_t *nsyms)
{
	const uint64_t maxmark = KALLSYMS_MAX_SYMS / 256;
	const uint64_t reach = 3ull * KALLSYMS_MAX_SYMS + 4 * maxmark + 16;
	for (uint64_t z = (t & ~3ull) - 4; z >= 8 && z + reach >= t && z < t; z -= 4) {
		if (ks_u32(w, z) != 0)
			continue;
		uint64_t m = 1;
		uint32_t prev = 0;
		while (m < maxmark && z + 4 * m + 4 <= t) {
			uint32_t v = ks_u32(w, z + 4 * m);
			if (v < prev + 512 || v - prev > 256u * KS_SYM_MAX_BYTES)
				break;
			prev = v;
			m++;
		}
		/* the run may reach one or two words into what follows it */
		for (uint64_t k = m; k >= 2 && k + 2 >= m; k--) {
			uint64_t gap = t - (z + 4 * k), lo_n = (k - 1) * 256 + 1, hi_n = k * 256;
			if (gap > 7) { /* seqs_of_names: 3 bytes a symbol, then alignment */
				uint64_t a = gap > 14 ? (gap - 14 + 2) / 3 : 0, b = gap / 3;
				lo_n = lo_n > a ? lo_n : a;
				hi_n = hi_n < b ? hi_n : b;
				if (lo_n > hi_n)
					continue;
			}
			uint32_t *markers = malloc(k * sizeof(*markers));
			if (!markers)
				return false;
			for (uint64_t i = 0; i < k; i++)
				markers[i] = ks_u32(w, z + 4 * i);
			bool ok = ks_find_names(w, z, markers, k, lo_n, hi_n, L, nsyms);
			free(markers);
			if (ok)
				return true;
		}
	}
	return false;
}

/* Reads [FROM, TO) of the image into W's buffer (allocated for all of W);
 * pages the dump lacks stay zero: no table can be found across them, and
 * their bits are set in BAD (a bit per page from W's first).  Returns the
 * bytes read. */
static uint64_t ks_window_fill(struct dump *d, const struct ks_window *w, uint64_t from, uint64_t to,
			       uint8_t *bad)
{
	uint64_t readable = 0;
	const uint64_t chunk = 1u << 20;
	for (uint64_t a = from; a < to; a += chunk) {
		uint64_t n = to - a < chunk ? to - a : chunk;
		uint8_t *b = w->b + (a - w->lo);
		if (dump_peek(d, a, b, n)) {
			readable += n;
			continue;
		}
		for (uint64_t p = a; p < a + n;) {
			uint64_t m = PAGE_SIZE - (p & (PAGE_SIZE - 1));
			if (m > a + n - p)
				m = a + n - p;
			uint64_t pg = (p >> PAGE_SHIFT) - (w->lo >> PAGE_SHIFT);
			if (dump_peek(d, p, w->b + (p - w->lo), m))
				readable += m;
			else
				bad[pg / 8] |= (uint8_t)(1u << (pg % 8));
			p += m;
		}
	}
	return readable;
}

/* Up to KS_MAX_CAND (offsets, base) candidates for the tables in W. */
#define KS_MAX_CAND 8

static size_t ks_scan_window(const struct ks_window *w, struct ks_loc *cand, uint32_t *nsyms)
{
	static const char digits[] = "0\0" "1\0" "2\0" "3\0" "4\0" "5\0" "6\0" "7\0" "8\0" "9";
	for (uint8_t *p = w->b; (p = memmem(p, w->len - (uint64_t)(p - w->b), digits,
					    sizeof(digits))); p++) {
		uint64_t pos0 = (uint64_t)(p - w->b), end = pos0;
		bool ok = true;
		for (int i = 0x30; i < 256 && ok; i++) {
			uint64_t n = ks_token_len(w, end);
			ok = n != 0;
			end += n + 1;
		}
		if (!ok)
			continue;
		for (uint64_t ti = end; ti < end + 8; ti++) {
			if (ti & 1 || ti + 512 > w->len)
				continue;
			uint16_t i30;
			memcpy(&i30, w->b + ti + 2 * 0x30, 2);
			if (i30 > pos0 || !ks_check_tokens(w, pos0 - i30, ti, end))
				continue;
			struct ks_loc L = { .ttab = w->lo + pos0 - i30, .tidx = w->lo + ti };
			if (!ks_find_markers(w, pos0 - i30, &L, nsyms))
				continue;
			size_t n = 0;
			uint64_t tail = L.tidx + 512;
			for (uint64_t al = 4; al <= 8; al *= 2) { /* offsets after the index */
				uint64_t o = (tail + al - 1) & ~(al - 1);
				if (n && cand[n - 1].offs == o)
					continue;
				cand[n] = L;
				cand[n].offs = o;
				cand[n].rbase = (o + 4ull * *nsyms + 7) & ~7ull;
				n++;
			}
			/* offsets, relative base, num_syms (5.x, 6.1) */
			uint64_t rb = (L.num - 8) & ~7ull;
			for (uint64_t pad = 0; pad <= 4; pad += 4) {
				cand[n] = L;
				cand[n].rbase = rb;
				cand[n].offs = rb - pad - 4ull * *nsyms;
				n++;
			}
			return n;
		}
	}
	return 0;
}

/* The tables lie in .rodata, a few MiB below init_uts_ns (.data) and above
 * all of .text: the image is searched from init_uts_ns down in windows
 * that double (8 MiB first), each read once, so the text below the tables
 * is mostly never inflated. */
#define KS_SCAN_FIRST (8u << 20)

static struct err *ks_scan(struct dump *d, struct ks_loc *cand, size_t *ncand, uint32_t *nsyms)
{
	uint64_t hi = dump_vmcoreinfo_symbol(d, "init_uts_ns");
	uint64_t lo = dump_vmcoreinfo_symbol(d, "_stext");
	if (!hi)
		return err_new(ERR_NOTFOUND, "VMCOREINFO has neither the kallsyms tables nor "
			       "init_uts_ns to find them by; give --system-map");
	if (!lo || lo >= hi || hi - lo > KS_SCAN_MAX)
		lo = hi > KS_SCAN_MAX ? hi - KS_SCAN_MAX : 0;
	struct ks_window w = { .lo = lo, .len = hi - lo };
	uint64_t npages = (hi >> PAGE_SHIFT) - (lo >> PAGE_SHIFT) + 1;
	w.b = calloc(1, w.len + 8);
	uint8_t *bad = calloc(1, npages / 8 + 1);
	if (!w.b || !bad) {
		free(w.b);
		free(bad);
		return err_new(ERR_NOMEM, "out of memory for %llu bytes of kernel image",
			       (unsigned long long)w.len);
	}
	/* an extract keeps what the search found, not the image it searched
	 * (the image's freed gaps hold other processes' pages) */
	dump_observer_pause();
	uint64_t readable = 0, done = hi; /* [done, hi) read */
	*ncand = 0;
	for (uint64_t span = KS_SCAN_FIRST; !*ncand && done > lo; span *= 2) {
		uint64_t from = hi - lo > span ? hi - span : lo;
		readable += ks_window_fill(d, &w, from, done, bad);
		done = from;
		struct ks_window view = { w.b + (from - lo), from, hi - from };
		if (readable)
			*ncand = ks_scan_window(&view, cand, nsyms);
	}
	dump_observer_resume();
	struct err *e = NULL;
	if (!readable)
		e = err_new(ERR_READ, "kernel image 0x%llx-0x%llx is not in the dump",
			    (unsigned long long)lo, (unsigned long long)hi);
	else if (!*ncand)
		e = err_new(ERR_NOTFOUND, "VMCOREINFO does not locate kallsyms and no tables "
			    "were found in the kernel image (0x%llx-0x%llx); give --system-map",
			    (unsigned long long)lo, (unsigned long long)hi);
	else /* num_syms, names, markers, token table and index */
		dump_observe_touch(d, cand[0].num, cand[0].tidx + 512 - cand[0].num);
	if (!e) { /* what was read above the tables (the BTF among it) is read next */
		uint64_t first = done >> PAGE_SHIFT, base = lo >> PAGE_SHIFT, n = (hi >> PAGE_SHIFT) - first + 1;
		uint8_t *ok = calloc(1, n / 8 + 1);
		for (uint64_t p = 0; ok && p < n; p++)
			if (!(bad[(first + p - base) / 8] >> ((first + p - base) % 8) & 1))
				ok[p / 8] |= (uint8_t)(1u << (p % 8));
		if (ok) {
			dump_stash_virt(d, done, hi - done, w.b + (done - lo), w.b, ok);
			w.b = NULL;
		}
	}
	free(w.b);
	free(bad);
	return e;
}

/* The tables: where VMCOREINFO says, or (FORCE_SCAN, or VMCOREINFO
 * silent) found in the image.  Candidates for the offsets in CAND. */
static struct err *ks_locate(struct dump *d, bool force_scan, struct ks_loc *cand, size_t *ncand,
			     uint32_t *nsyms, const char **located)
{
	struct err *e;
	*ncand = 0;
	*nsyms = 0;
	*located = "VMCOREINFO";
	struct ks_loc L = {
		.names = dump_vmcoreinfo_symbol(d, "kallsyms_names"),
		.num = dump_vmcoreinfo_symbol(d, "kallsyms_num_syms"),
		.ttab = dump_vmcoreinfo_symbol(d, "kallsyms_token_table"),
		.tidx = dump_vmcoreinfo_symbol(d, "kallsyms_token_index"),
		.offs = dump_vmcoreinfo_symbol(d, "kallsyms_offsets"),
		.rbase = dump_vmcoreinfo_symbol(d, "kallsyms_relative_base"),
		.abs = dump_vmcoreinfo_symbol(d, "kallsyms_addresses"),
	};
	if (!force_scan && L.names && L.num && L.ttab && L.tidx && (L.offs || L.abs)) {
		if ((e = dump_read_u32(d, L.num, nsyms)))
			return err_wrap(e, "kallsyms_num_syms");
		cand[(*ncand)++] = L;
	} else {
		*located = "found in the kernel image";
		if ((e = ks_scan(d, cand, ncand, nsyms)))
			return e;
	}
	if (*nsyms == 0 || *nsyms > KALLSYMS_MAX_SYMS)
		return err_new(ERR_CORRUPT, "kallsyms_num_syms at 0x%llx is %u, not a symbol count",
			       (unsigned long long)cand[0].num, *nsyms);
	return NULL;
}

/* Every symbol into OUT (initialised, empty), finished. */
static struct err *ks_fill(struct dump *d, const struct ks_loc *cand, size_t ncand, uint32_t nsyms,
			   struct symtab *out, const char **enc)
{
	struct ks_anchors A = { 0 };
	for (size_t a = 0; a < KS_NANCHORS; a++)
		A.want[a] = dump_vmcoreinfo_symbol(d, ks_anchor_names[a]);
	struct err *e;
	/* kernel symbol names average 21-25 bytes with their NUL (5.10 to
	 * 7.3): room for 32 leaves no reallocation, and a reserved page never
	 * written is never touched */
	if ((e = symtab_reserve(out, nsyms, (size_t)nsyms * 32)) ||
	    (e = ks_decode_names(d, &cand[0], nsyms, out, &A)) ||
	    (e = ks_addresses(d, cand, ncand, nsyms, &A, out, enc)))
		return e;
	return symtab_finish(out);
}

/* --- On demand (6.2+, and Debian's 6.1): kallsyms_seqs_of_names lists the
 * symbols in name order, which is how the kernel's own
 * kallsyms_lookup_name() searches them.  A name is then found by binary
 * search, decoding the ~18 names it meets, instead of decoding all of them
 * (167k on 6.12: most of opening a dump).  Where the markers and the
 * 3-byte sequence numbers must be is computed from the token table, the
 * offsets and the count for each of the two layouts (ksl_place), then
 * checked (ksl_markers, ksl_seqs_sorted).  A kernel without the index, or
 * tables that do not check out, are read whole as before. */

#define KSL_MEMO 16
#define KSL_TOP 64	/* the search's first 6 levels, shared by every name */
#define KSL_ANCHORS 3	/* anchors whose addresses choose the encoding */
#define KSL_BLOCK_MAX (256u * KS_SYM_MAX_BYTES)

struct ks_lazy {
	struct dump *d;
	struct ks_loc L;	/* markers set */
	uint64_t seqs;
	uint32_t nsyms, nmark;
	uint32_t *markers;
	enum ks_enc enc;
	uint64_t base;
	struct ks_tokens *T;
	uint8_t *blk;		/* names of block blk_no (256 symbols) */
	uint32_t blk_no, blk_len;
	struct {
		char name[64];
		uint64_t addr;
		bool found;
	} memo[KSL_MEMO];
	unsigned memo_next;
	char *top[KSL_TOP];	/* their names (type letter first), by node */
};

static void ksl_free(void *src)
{
	struct ks_lazy *K = src;
	if (!K)
		return;
	for (unsigned k = 0; k < KSL_TOP; k++)
		free(K->top[k]);
	free(K->markers);
	ks_tokens_free(K->T);
	free(K->blk);
	free(K);
}

/* Bytes of names in block J. */
static uint64_t ksl_block_end(const struct ks_lazy *K, uint32_t j)
{
	return j + 1 < K->nmark ? K->markers[j + 1] : K->L.markers - K->L.names;
}

static bool ksl_block(struct ks_lazy *K, uint32_t j)
{
	if (K->blk_no == j)
		return true;
	uint64_t len = ksl_block_end(K, j) - K->markers[j];
	K->blk_no = UINT32_MAX;
	struct err *e = dump_read_virt(K->d, K->L.names + K->markers[j], K->blk, len);
	if (e) {
		err_free(e);
		return false;
	}
	K->blk_no = j;
	K->blk_len = (uint32_t)len;
	return true;
}

/* Length of the name at *POS of the current block, *POS moved past the
 * length bytes; 0 when it runs off the block. */
static uint32_t ksl_len(const struct ks_lazy *K, uint32_t *pos)
{
	if (*pos >= K->blk_len)
		return 0;
	uint32_t len = K->blk[(*pos)++];
	if (len & 0x80) {
		if (*pos >= K->blk_len)
			return 0;
		len = (len & 0x7f) | ((uint32_t)K->blk[(*pos)++] << 7);
	}
	return len && *pos + len <= K->blk_len ? len : 0;
}

/* Symbol I's name (type letter first, NUL-terminated) into NAME, room for
 * KS_NAME_MAX + 1 + KS_SLOT bytes; false if unreadable or malformed. */
static bool ksl_name(struct ks_lazy *K, uint32_t i, char *name)
{
	if (i >= K->nsyms || !ksl_block(K, i >> 8))
		return false;
	uint32_t pos = 0, len = 0;
	for (uint32_t k = 0; k <= (i & 255); k++) {
		if (!(len = ksl_len(K, &pos)))
			return false;
		if (k < (i & 255))
			pos += len;
	}
	size_t n = 0;
	for (uint32_t k = 0; k < len; k++)
		ks_expand(K->T, K->blk[pos + k], name, &n);
	name[n] = '\0';
	return n >= 2;
}

/* The symbol at position POS in name order. */
static bool ksl_seq(const struct ks_lazy *K, uint32_t pos, uint32_t *idx)
{
	uint8_t b[3];
	if (!dump_peek(K->d, K->seqs + 3ull * pos, b, 3))
		return false;
	*idx = (uint32_t)b[0] << 16 | (uint32_t)b[1] << 8 | b[2];
	return *idx < K->nsyms;
}

static bool ksl_addr(const struct ks_lazy *K, enum ks_enc enc, uint32_t i, uint64_t *addr)
{
	uint8_t raw[8];
	bool absolute = enc == KS_ABSOLUTE;
	if (!dump_peek(K->d, absolute ? K->L.abs + 8ull * i : K->L.offs + 4ull * i, raw,
		       absolute ? 8 : 4))
		return false;
	struct ks_loc L = K->L;
	if (!absolute) /* ks_addrs reads position-relative offsets from index 0 */
		L.offs += 4ull * i;
	ks_addrs(enc, &L, K->base, raw, 1, addr);
	return true;
}

/* Up to MAX symbols named WANT (by index, in address order as the kernel
 * breaks ties); how many, or -1 if the tables could not be read. */
static int ksl_find(struct ks_lazy *K, const char *want, uint32_t *idx, int max)
{
	char name[KS_NAME_MAX + 1 + KS_SLOT];
	uint32_t lo = 0, hi = K->nsyms, i, node = 1; /* node: heap order */
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		const char *nm = node < KSL_TOP ? K->top[node] : NULL;
		if (!nm) {
			if (!ksl_seq(K, mid, &i) || !ksl_name(K, i, name))
				return -1;
			nm = name;
			if (node < KSL_TOP)
				K->top[node] = strdup(name);
		}
		bool right = strcmp(nm + 1, want) < 0;
		if (right)
			lo = mid + 1;
		else
			hi = mid;
		node = node < KSL_TOP ? 2 * node + right : KSL_TOP;
	}
	int n = 0;
	for (; lo < K->nsyms && n < max; lo++) {
		if (!ksl_seq(K, lo, &i) || !ksl_name(K, i, name))
			return n ? n : -1;
		if (strcmp(name + 1, want))
			break;
		idx[n++] = i;
	}
	return n;
}

static bool ksl_lookup(void *src, const char *name, uint64_t *addr)
{
	struct ks_lazy *K = src;
	size_t len = strlen(name);
	for (unsigned m = 0; m < KSL_MEMO; m++)
		if (len < sizeof(K->memo[m].name) && !strcmp(K->memo[m].name, name)) {
			*addr = K->memo[m].addr;
			return K->memo[m].found;
		}
	uint32_t i;
	int n = ksl_find(K, name, &i, 1);
	bool found = n == 1 && ksl_addr(K, K->enc, i, addr);
	if (n >= 0 && len < sizeof(K->memo[0].name)) { /* not an unreadable page */
		unsigned m = K->memo_next++ % KSL_MEMO;
		memcpy(K->memo[m].name, name, len + 1);
		K->memo[m].addr = found ? *addr : 0;
		K->memo[m].found = found;
	}
	return found;
}

static struct err *ksl_fill(void *src, struct symtab *t)
{
	struct ks_lazy *K = src;
	const char *enc;
	/* an extract taken now must answer the next run's searches too */
	dump_observe_touch(K->d, K->L.markers, 4ull * K->nmark);
	dump_observe_touch(K->d, K->seqs, 3ull * K->nsyms);
	return ks_fill(K->d, &K->L, 1, K->nsyms, t, &enc);
}

static const struct symtab_source ksl_ops = { ksl_lookup, ksl_fill, ksl_free };

/* The markers at AT, checked: from 0, every block of 256 names within
 * bounds, the last block's names ending at most 7 bytes of alignment
 * before the markers and one block in the middle where the next begins. */
static bool ksl_markers(struct ks_lazy *K, uint64_t at)
{
	uint64_t n = K->nsyms;
	K->blk_no = UINT32_MAX;
	K->L.markers = at;
	if (at <= K->L.names || !dump_peek(K->d, at, K->markers, 4ull * K->nmark) || K->markers[0])
		return false;
	uint64_t span = at - K->L.names;
	for (uint32_t j = 0; j < K->nmark; j++) {
		uint64_t end = ksl_block_end(K, j);
		if (end <= K->markers[j] || end > span || end - K->markers[j] > KSL_BLOCK_MAX)
			return false;
	}
	uint32_t last = K->nmark - 1, count = (uint32_t)(n - 256ull * last);
	uint32_t probe[2] = { last, last / 2 };
	for (int p = 0; p < 2; p++) {
		uint32_t j = probe[p], pos = 0, len;
		if (!ksl_block(K, j))
			return false;
		for (uint32_t k = 0; k < (j == last ? count : 256); k++) {
			if (!(len = ksl_len(K, &pos)))
				return false;
			pos += len;
		}
		if (j == last ? K->blk_len - pos > 7 : pos != K->blk_len)
			return false;
	}
	return true;
}

#define KSL_SAMPLES 16

/* The sequence numbers at K->seqs put the names in order: at KSL_SAMPLES
 * positions spread over the table, each name sorts after the one before. */
static bool ksl_seqs_sorted(struct ks_lazy *K)
{
	char prev[KS_NAME_MAX + 1 + KS_SLOT], cur[KS_NAME_MAX + 1 + KS_SLOT];
	for (uint32_t k = 0; k < KSL_SAMPLES; k++) {
		uint32_t pos = (uint32_t)((uint64_t)(K->nsyms - 1) * k / (KSL_SAMPLES - 1)), i;
		if (!ksl_seq(K, pos, &i) || !ksl_name(K, i, cur) ||
		    (k && strcmp(prev + 1, cur + 1) > 0))
			return false;
		memcpy(prev, cur, sizeof(prev));
	}
	return true;
}

/* Markers and sequence numbers where one of the two layouts puts them,
 * checked.  Tables are 8-aligned (scripts/kallsyms' ALGN), or only 4 (the
 * sequence numbers of 7.x follow the offsets directly). */
static bool ksl_place(struct ks_lazy *K)
{
	uint64_t n = K->nsyms, nm;
	K->nmark = (uint32_t)((n + 255) / 256);
	nm = 4ull * K->nmark;
	if (!(K->markers = malloc(nm)) || !(K->blk = malloc(KSL_BLOCK_MAX)) ||
	    K->L.ttab < K->L.names + 2 * n + nm)
		return false;
	for (uint64_t align = 8; align >= 4; align /= 2) {
		/* names, markers, sequence numbers, token table (6.2-6.3, and
		 * 6.1 where the index was backported) */
		uint64_t seqs = (K->L.ttab - 3 * n) & ~(align - 1);
		if (K->L.ttab >= K->L.names + 5 * n + nm + align &&
		    ksl_markers(K, (seqs - nm) & ~(align - 1))) {
			K->seqs = seqs;
			if (ksl_seqs_sorted(K))
				return true;
		}
	}
	for (uint64_t align = 8; align >= 4; align /= 2) {
		/* names, markers, token table ... offsets, relative base (if
		 * any), sequence numbers (6.4+) */
		if (!ksl_markers(K, (K->L.ttab - nm) & ~(align - 1)))
			continue;
		uint64_t end = K->L.abs ? K->L.abs + 8 * n
			       : K->L.rbase ? K->L.rbase + 8 : K->L.offs + 4 * n;
		K->seqs = (end + align - 1) & ~(align - 1);
		if (ksl_seqs_sorted(K))
			return true;
	}
	return false;
}

/* The encoding under which the anchors VMCOREINFO names are where the
 * table puts them (at least one, each found by name): the first
 * KSL_ANCHORS of the whole table's (init_uts_ns, _stext, swapper_pg_dir). */
static bool ksl_encoding(struct ks_lazy *K, const char **enc_name)
{
	const char *const *anchors = ks_anchor_names;
	uint64_t want[KSL_ANCHORS];
	uint32_t idx[KSL_ANCHORS][KS_ANCHOR_MAX_DUPS];
	int nidx[KSL_ANCHORS];
	unsigned named = 0;
	for (int a = 0; a < KSL_ANCHORS; a++) {
		want[a] = dump_vmcoreinfo_symbol(K->d, anchors[a]);
		nidx[a] = want[a] ? ksl_find(K, anchors[a], idx[a], KS_ANCHOR_MAX_DUPS) : 0;
		if (nidx[a] < 0)
			return false;
		named += nidx[a] > 0;
	}
	if (!named)
		return false;
	enum ks_enc order[3];
	size_t norder = ks_enc_order(K->d, &K->L, &K->base, order);
	for (size_t k = 0; k < norder; k++) {
		bool all = true;
		for (int a = 0; a < KSL_ANCHORS && all; a++) {
			bool hit = !nidx[a];
			for (int m = 0; m < nidx[a] && !hit; m++) {
				uint64_t got;
				if (!ksl_addr(K, order[k], idx[a][m], &got))
					return false;
				hit = got == want[a];
			}
			all = hit;
		}
		if (all) {
			K->enc = order[k];
			*enc_name = ks_enc_names[order[k]];
			return true;
		}
	}
	return false;
}

/* OUT answering through the name index, or false (read it whole). */
static bool ksl_open(struct dump *d, const struct ks_loc *L, uint32_t nsyms, struct symtab *out,
		     const char **enc_name)
{
	struct ks_lazy *K = calloc(1, sizeof(*K));
	if (!K)
		return false;
	K->d = d;
	K->L = *L;
	K->nsyms = nsyms;
	K->blk_no = UINT32_MAX;
	struct err *e = NULL;
	if ((e = ks_tokens_load(d, &K->L, &K->T)) || !ksl_place(K) || !ksl_encoding(K, enc_name)) {
		err_free(e);
		ksl_free(K);
		return false;
	}
	symtab_set_source(out, &ksl_ops, K, nsyms);
	return true;
}

static struct err *ks_load(struct dump *d, struct symtab *out, bool force_scan, char *how,
			   size_t howlen)
{
	struct ks_loc cand[KS_MAX_CAND];
	size_t ncand;
	uint32_t nsyms;
	const char *located, *enc = NULL;
	struct err *e = ks_locate(d, force_scan, cand, &ncand, &nsyms, &located);
	if (e || (e = symtab_init(out, "vmlinux")))
		return e;
	bool lazy = !force_scan && ncand == 1 && ksl_open(d, &cand[0], nsyms, out, &enc);
	if (!lazy && (e = ks_fill(d, cand, ncand, nsyms, out, &enc))) {
		symtab_fini(out);
		return e;
	}
	if (how)
		snprintf(how, howlen, "%s, %s offsets%s", located, enc,
			 lazy ? ", looked up by name index" : "");
	return NULL;
}

struct err *kallsyms_load(struct dump *d, struct symtab *out, char *how, size_t howlen)
{
	return ks_load(d, out, false, how, howlen);
}

struct err *kallsyms_scan(struct dump *d, struct symtab *out, char *how, size_t howlen)
{
	return ks_load(d, out, true, how, howlen);
}

struct err *sysmap_load(struct dump *d, const char *path, struct symtab *out)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return err_new(ERR_OS, "%s: %s", path, strerror(errno));
	/* System.map has link-time addresses; KASLR moves them by KERNELOFFSET. */
	const char *ko = dump_vmcoreinfo(d, "KERNELOFFSET");
	uint64_t slide = ko ? strtoull(ko, NULL, 16) : 0;
	struct err *e = symtab_init(out, "vmlinux");
	char line[1024], first[160] = "";
	unsigned long lineno = 0;
	while (!e && fgets(line, sizeof(line), f)) {
		if (!lineno++)
			snprintf(first, sizeof(first), "%.*s", (int)strcspn(line, "\n"), line);
		unsigned long long a;
		char type, name[512];
		if (sscanf(line, "%llx %c %511s", &a, &type, name) != 3) {
			e = err_new(ERR_FORMAT, "%s:%lu: not a System.map line", path, lineno);
			break;
		}
		/* Absolute symbols (percpu offsets, constants) do not slide. */
		uint64_t addr = (type == 'A' || type == 'a') ? a : a + slide;
		e = symtab_add(out, name, strlen(name), addr, type);
	}
	fclose(f);
	if (!e)
		e = symtab_finish(out);
	/* Debian's image packages ship a one-line stand-in ("ffffffffffffffff B
	 * The real System.map is in the linux-image-<version>-dbg package"). */
	uint64_t got;
	if (!e && lineno < 16 && !symtab_lookup(out, "init_uts_ns", &got) &&
	    !symtab_lookup(out, "_stext", &got))
		e = err_new(ERR_FORMAT, "%s: a placeholder, not a System.map (%lu line%s: \"%s\"); the "
			    "real one is in the kernel's -dbg package, and the dump's own kallsyms "
			    "needs none", path, lineno, lineno == 1 ? "" : "s", first);
	if (!e) {
		uint64_t want = dump_vmcoreinfo_symbol(d, "init_uts_ns");
		if (want && (!symtab_lookup(out, "init_uts_ns", &got) || got != want))
			e = err_new(ERR_FORMAT, "%s: does not belong to this dump (init_uts_ns differs)", path);
	}
	if (e)
		symtab_fini(out);
	return e;
}

#define KALLSYMS_PROC_MAX_MODULES 8192

struct err *kallsyms_load_proc(struct dump *d, const char *path, struct symtab *vmlinux,
			       struct symtab **mods, size_t *nmods)
{
	*mods = NULL;
	*nmods = 0;
	FILE *f = fopen(path, "r");
	if (!f)
		return err_new(ERR_OS, "%s: %s", path, strerror(errno));
	struct err *e = symtab_init(vmlinux, "vmlinux");
	char line[1024];
	unsigned long lineno = 0;
	uint64_t nonzero = 0;
	struct symtab *m = NULL; /* the module of the previous line: they come in runs */
	while (!e && fgets(line, sizeof(line), f)) {
		if (++lineno > KALLSYMS_MAX_SYMS) {
			e = err_new(ERR_FORMAT, "%s: more than %u lines", path, KALLSYMS_MAX_SYMS);
			break;
		}
		unsigned long long a;
		char type, name[512], mod[80] = "";
		int n = sscanf(line, "%llx %c %511s [%79[^]]]", &a, &type, name, mod);
		if (n < 3) {
			e = err_new(ERR_FORMAT, "%s:%lu: not a kallsyms line", path, lineno);
			break;
		}
		nonzero += a != 0;
		if (n < 4) {
			e = symtab_add(vmlinux, name, strlen(name), a, type);
			continue;
		}
		if (!m || strcmp(m->name, mod)) {
			m = NULL;
			for (size_t i = 0; i < *nmods && !m; i++)
				if (!strcmp((*mods)[i].name, mod))
					m = &(*mods)[i];
		}
		if (!m) {
			void *p = *nmods < KALLSYMS_PROC_MAX_MODULES
					  ? array_room(*mods, *nmods, sizeof(**mods)) : NULL;
			if (!p) {
				e = err_new(ERR_NOMEM, "%s: out of memory for module %s", path, mod);
				break;
			}
			*mods = p;
			m = &(*mods)[*nmods];
			if ((e = symtab_init(m, mod)))
				break;
			++*nmods;
		}
		e = symtab_add(m, name, strlen(name), a, type);
	}
	fclose(f);
	if (!e && !nonzero)
		e = err_new(ERR_NOTFOUND, "%s: every address reads 0 (hidden by kptr_restrict, or not "
			    "root)", path);
	if (!e)
		e = symtab_finish(vmlinux);
	for (size_t i = 0; i < *nmods && !e; i++)
		e = symtab_finish(&(*mods)[i]);
	if (!e) {
		uint64_t want = dump_vmcoreinfo_symbol(d, "init_uts_ns"), got;
		if (want && (!symtab_lookup(vmlinux, "init_uts_ns", &got) || got != want))
			e = err_new(ERR_FORMAT, "%s: does not belong to this kernel (init_uts_ns differs "
				    "from VMCOREINFO)", path);
	}
	if (e) {
		symtab_fini(vmlinux);
		for (size_t i = 0; i < *nmods; i++)
			symtab_fini(&(*mods)[i]);
		free(*mods);
		*mods = NULL;
		*nmods = 0;
	}
	return e;
}
