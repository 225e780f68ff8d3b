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

/* Decode the compressed names into T (addresses filled in later): one byte
 * of length (two with bit 7 set), then token bytes; the first character of a
 * symbol is its type letter. */
static struct err *ks_decode_names(struct dump *d, const struct ks_loc *L, uint32_t nsyms,
				   struct symtab *t, struct ks_anchors *A)
{
	uint16_t token_index[256];
	struct err *e;
	if ((e = dump_read_virt(d, L->tidx, token_index, sizeof(token_index))))
		return err_wrap(e, "kallsyms_token_index");
	char *tokens = malloc(KALLSYMS_TOKEN_TABLE_MAX + 1);
	struct ks_tokens *T = calloc(1, sizeof(*T));
	struct name_stream *ns = calloc(1, sizeof(*ns));
	if (!tokens || !T || !ns) {
		e = err_new(ERR_NOMEM, "out of memory");
		goto out;
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
			e = err_new(ERR_READ, "kallsyms_token_table: unreadable at 0x%llx",
				    (unsigned long long)L->ttab);
			goto out;
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
	free(tokens);
	free(T);
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
		uint64_t base = 0;
		bool have_base = L->rbase && dump_peek(d, L->rbase, &base, sizeof(base));
		static const enum ks_enc rel[] = { KS_PREL, KS_BASE_PERCPU, KS_BASE };
		/* With a relative base named, try it first; position-relative last. */
		static const enum ks_enc rel_based[] = { KS_BASE_PERCPU, KS_BASE, KS_PREL };
		const enum ks_enc *order = absolute ? (const enum ks_enc[]){ KS_ABSOLUTE }
						    : have_base ? rel_based : rel;
		size_t norder = absolute ? 1 : 3;
		for (size_t k = 0; k < norder; k++) {
			if ((order[k] == KS_BASE || order[k] == KS_BASE_PERCPU) && !have_base)
				continue;
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
 * pages the dump lacks stay zero: no table can be found across them.
 * Returns the bytes read. */
static uint64_t ks_window_fill(struct dump *d, const struct ks_window *w, uint64_t from, uint64_t to)
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
			if (dump_peek(d, p, w->b + (p - w->lo), m))
				readable += m;
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
	w.b = calloc(1, w.len + 8);
	if (!w.b)
		return err_new(ERR_NOMEM, "out of memory for %llu bytes of kernel image",
			       (unsigned long long)w.len);
	/* an extract keeps what the search found, not the image it searched
	 * (the image's freed gaps hold other processes' pages) */
	dump_observer_pause();
	uint64_t readable = 0, done = hi; /* [done, hi) read */
	*ncand = 0;
	for (uint64_t span = KS_SCAN_FIRST; !*ncand && done > lo; span *= 2) {
		uint64_t from = hi - lo > span ? hi - span : lo;
		readable += ks_window_fill(d, &w, from, done);
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
	free(w.b);
	return e;
}

static struct err *ks_load(struct dump *d, struct symtab *out, bool force_scan, char *how,
			   size_t howlen)
{
	struct ks_loc cand[KS_MAX_CAND];
	size_t ncand = 0;
	uint32_t nsyms = 0;
	struct err *e;
	const char *located = "VMCOREINFO";
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
		if ((e = dump_read_u32(d, L.num, &nsyms)))
			return err_wrap(e, "kallsyms_num_syms");
		cand[ncand++] = L;
	} else {
		located = "found in the kernel image";
		if ((e = ks_scan(d, cand, &ncand, &nsyms)))
			return e;
	}
	if (nsyms == 0 || nsyms > KALLSYMS_MAX_SYMS)
		return err_new(ERR_CORRUPT, "kallsyms_num_syms at 0x%llx is %u, not a symbol count",
			       (unsigned long long)cand[0].num, nsyms);
	struct ks_anchors A = { 0 };
	for (size_t a = 0; a < KS_NANCHORS; a++)
		A.want[a] = dump_vmcoreinfo_symbol(d, ks_anchor_names[a]);
	if ((e = symtab_init(out, "vmlinux")))
		return e;
	const char *enc = NULL;
	/* kernel symbol names average 21-25 bytes with their NUL (5.10 to
	 * 7.3): room for 32 leaves no reallocation, and a reserved page never
	 * written is never touched */
	if ((e = symtab_reserve(out, nsyms, (size_t)nsyms * 32)) ||
	    (e = ks_decode_names(d, &cand[0], nsyms, out, &A)) ||
	    (e = ks_addresses(d, cand, ncand, nsyms, &A, out, &enc)) ||
	    (e = symtab_finish(out))) {
		symtab_fini(out);
		return e;
	}
	if (how)
		snprintf(how, howlen, "%s, %s offsets", located, enc);
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
