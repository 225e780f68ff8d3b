#define _GNU_SOURCE
#include "symtab/symtab.h"

#include <stdlib.h>
#include <string.h>

/* No kernel object has more symbols than this; a count above it is garbage. */
#define SYMTAB_MAX (1u << 23)

struct err *symtab_init(struct symtab *t, const char *name)
{
	memset(t, 0, sizeof(*t));
	t->name = strdup(name);
	return t->name ? NULL : err_new(ERR_NOMEM, "out of memory");
}

/* The symbols and their indexes gone; the name and the source kept. */
static void symtab_clear(struct symtab *t)
{
	free(t->addr);
	free(t->name_off);
	free(t->type);
	free(t->pool);
	free(t->name_hash);
	free(t->hash);
	free(t->by_addr);
	t->addr = NULL;
	t->name_off = NULL;
	t->type = t->pool = NULL;
	t->name_hash = t->hash = t->by_addr = NULL;
	t->n = t->cap = t->pool_len = t->pool_cap = t->hash_cap = 0;
	t->by_addr_sorted = false;
}

void symtab_fini(struct symtab *t)
{
	if (t->src)
		t->src_ops->free(t->src);
	err_free(t->src_err);
	symtab_clear(t);
	free(t->name);
	memset(t, 0, sizeof(*t));
}

/* Eight bytes at a time, the last eight (or four, or the odd bytes)
 * overlapping what came before, then murmur3's finaliser: FNV-1a a byte at
 * a time over vmlinux's 167k names was most of indexing them. */
uint32_t symtab_hash(const char *s, size_t len)
{
	uint64_t h = 0x9e3779b97f4a7c15ull * (len + 1), w, v;
	if (len >= 8) {
		for (size_t i = 0; i + 8 < len; i += 8) {
			memcpy(&w, s + i, 8);
			h = (h ^ w) * 0xff51afd7ed558ccdull;
			h ^= h >> 29;
		}
		memcpy(&w, s + len - 8, 8);
	} else if (len >= 4) {
		uint32_t x, y;
		memcpy(&x, s, 4);
		memcpy(&y, s + len - 4, 4);
		w = (uint64_t)x << 32 | y;
	} else {
		w = len ? (uint64_t)(unsigned char)s[0] << 16 |
			  (uint64_t)(unsigned char)s[len / 2] << 8 | (unsigned char)s[len - 1] : 0;
	}
	v = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
	v ^= v >> 33;
	v *= 0xff51afd7ed558ccdull;
	v ^= v >> 33;
	return (uint32_t)v;
}

static struct err *symtab_grow(struct symtab *t, size_t cap)
{
	uint64_t *a = realloc(t->addr, cap * sizeof(*a));
	if (a)
		t->addr = a;
	uint32_t *o = realloc(t->name_off, cap * sizeof(*o));
	if (o)
		t->name_off = o;
	char *ty = realloc(t->type, cap);
	if (ty)
		t->type = ty;
	uint32_t *h = realloc(t->name_hash, cap * sizeof(*h));
	if (h)
		t->name_hash = h;
	if (!a || !o || !ty || !h)
		return err_new(ERR_NOMEM, "out of memory");
	t->cap = cap;
	return NULL;
}

static struct err *symtab_pool_grow(struct symtab *t, size_t cap)
{
	char *p = realloc(t->pool, cap);
	if (!p)
		return err_new(ERR_NOMEM, "out of memory");
	t->pool = p;
	t->pool_cap = cap;
	return NULL;
}

struct err *symtab_reserve(struct symtab *t, size_t n, size_t pool)
{
	struct err *e;
	if (n > SYMTAB_MAX)
		n = SYMTAB_MAX;
	if (n > t->cap && (e = symtab_grow(t, n)))
		return e;
	if (pool > t->pool_cap && pool <= UINT32_MAX && (e = symtab_pool_grow(t, pool)))
		return e;
	return NULL;
}

struct err *symtab_add(struct symtab *t, const char *name, size_t len, uint64_t addr, char type)
{
	struct err *e;
	if (t->n >= SYMTAB_MAX)
		return err_new(ERR_CORRUPT, "%s: more than %u symbols", t->name, SYMTAB_MAX);
	if (t->n == t->cap && (e = symtab_grow(t, t->cap ? t->cap * 2 : 1024)))
		return e;
	if (t->pool_len + len + 1 > t->pool_cap) {
		size_t cap = t->pool_cap ? t->pool_cap * 2 : 65536;
		while (cap < t->pool_len + len + 1)
			cap *= 2;
		if (cap > UINT32_MAX)
			return err_new(ERR_CORRUPT, "%s: symbol names too large", t->name);
		if ((e = symtab_pool_grow(t, cap)))
			return e;
	}
	memcpy(t->pool + t->pool_len, name, len);
	t->pool[t->pool_len + len] = '\0';
	t->name_off[t->n] = (uint32_t)t->pool_len;
	t->name_hash[t->n] = symtab_hash(name, len);
	t->pool_len += len + 1;
	t->addr[t->n] = addr;
	t->type[t->n] = type;
	t->n++;
	return NULL;
}

void symtab_set_source(struct symtab *t, const struct symtab_source *ops, void *src, size_t count)
{
	if (t->src)
		t->src_ops->free(t->src);
	err_free(t->src_err);
	t->src_err = NULL;
	t->src_ops = ops;
	t->src = src;
	t->src_count = count;
}

struct err *symtab_complete(struct symtab *t)
{
	if (!t->src)
		return NULL;
	if (t->src_err) /* read once: the answer stands */
		return err_new(t->src_err->kind, "%s", t->src_err->msg);
	struct err *e = t->src_ops->fill(t->src, t);
	if (e) { /* what was added goes: lookups stay with the source */
		symtab_clear(t);
		e = err_wrap(e, "%s symbols", t->name);
		/* a source that answers nothing without the table: every lookup
		 * would read it again */
		if (!t->src_ops->lookup && !(t->src_err = err_new(e->kind, "%s", e->msg))) {
			err_free(e);
			return err_new(ERR_NOMEM, "out of memory");
		}
		return e;
	}
	t->src_ops->free(t->src);
	t->src = NULL;
	t->src_ops = NULL;
	t->src_count = 0;
	return NULL;
}

static int symtab_cmp_addr(const void *a, const void *b, void *arg)
{
	const uint64_t *addr = arg;
	uint64_t x = addr[*(const uint32_t *)a], y = addr[*(const uint32_t *)b];
	return x < y ? -1 : x > y;
}

struct err *symtab_finish(struct symtab *t)
{
	free(t->hash);
	t->hash_cap = 16;
	while (t->hash_cap < t->n * 2)
		t->hash_cap *= 2;
	t->hash = calloc(t->hash_cap, sizeof(*t->hash));
	/* The address index is built on the first symbolize: only `dis` asks,
	 * and sorting vmlinux's symbols was 2% of every run. */
	free(t->by_addr);
	t->by_addr = NULL;
	t->by_addr_sorted = false;
	if (!t->hash)
		return err_new(ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < t->n; i++) {
		uint32_t hv = t->name_hash[i];
		size_t h = hv & (t->hash_cap - 1);
		/* First definition wins, as in kallsyms_lookup_name(). */
		bool dup = false;
		while (t->hash[h]) {
			uint32_t j = t->hash[h] - 1;
			if (t->name_hash[j] == hv && !strcmp(symtab_name(t, j), symtab_name(t, i))) {
				dup = true;
				break;
			}
			h = (h + 1) & (t->hash_cap - 1);
		}
		if (!dup)
			t->hash[h] = (uint32_t)i + 1;
	}
	return NULL;
}

bool symtab_lookup(const struct symtab *t, const char *name, uint64_t *addr)
{
	if (t->src && t->src_ops->lookup)
		return t->src_ops->lookup(t->src, name, addr);
	if (t->src) { /* read whole on the first lookup; the table is not const */
		struct err *e = symtab_complete((struct symtab *)t);
		if (e) {
			err_free(e);
			return false;
		}
	}
	if (!t->hash)
		return false;
	uint32_t hv = symtab_hash(name, strlen(name));
	size_t h = hv & (t->hash_cap - 1);
	while (t->hash[h]) {
		uint32_t i = t->hash[h] - 1;
		if (t->name_hash[i] == hv && !strcmp(symtab_name(t, i), name)) {
			*addr = t->addr[i];
			return true;
		}
		h = (h + 1) & (t->hash_cap - 1);
	}
	return false;
}

const char *symtab_symbolize(const struct symtab *t, uint64_t addr, uint64_t *offset)
{
	if (t->src) { /* the table itself is not const: see by_addr */
		struct err *e = symtab_complete((struct symtab *)t);
		if (e) {
			err_free(e);
			return NULL;
		}
	}
	size_t lo = 0, hi = t->n;
	if (!t->hash || !t->n)
		return NULL;
	if (!t->by_addr_sorted) {
		/* A lazily built index; the table itself is not const. */
		struct symtab *m = (struct symtab *)t;
		free(m->by_addr);
		if (!(m->by_addr = malloc(m->n * sizeof(*m->by_addr))))
			return NULL;
		bool sorted = true;
		for (size_t i = 0; i < m->n; i++) {
			m->by_addr[i] = (uint32_t)i;
			sorted &= !i || m->addr[i - 1] <= m->addr[i];
		}
		/* kallsyms is in address order already (ks_valid insists): the
		 * identity is what the (stable) sort would give */
		if (!sorted)
			qsort_r(m->by_addr, m->n, sizeof(*m->by_addr), symtab_cmp_addr, m->addr);
		m->by_addr_sorted = true;
	}
	while (lo < hi) { /* first index with address > addr */
		size_t mid = (lo + hi) / 2;
		if (t->addr[t->by_addr[mid]] <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	uint32_t i = t->by_addr[lo - 1];
	*offset = addr - t->addr[i];
	return symtab_name(t, i);
}
