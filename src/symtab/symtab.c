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

void symtab_fini(struct symtab *t)
{
	free(t->name);
	free(t->addr);
	free(t->name_off);
	free(t->type);
	free(t->pool);
	free(t->hash);
	free(t->by_addr);
	memset(t, 0, sizeof(*t));
}

static uint32_t symtab_hash_str(const char *s, size_t len)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

struct err *symtab_add(struct symtab *t, const char *name, size_t len, uint64_t addr, char type)
{
	if (t->n >= SYMTAB_MAX)
		return err_new(ERR_CORRUPT, "%s: more than %u symbols", t->name, SYMTAB_MAX);
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 1024;
		uint64_t *a = realloc(t->addr, cap * sizeof(*a));
		if (a)
			t->addr = a;
		uint32_t *o = realloc(t->name_off, cap * sizeof(*o));
		if (o)
			t->name_off = o;
		char *ty = realloc(t->type, cap);
		if (ty)
			t->type = ty;
		if (!a || !o || !ty)
			return err_new(ERR_NOMEM, "out of memory");
		t->cap = cap;
	}
	if (t->pool_len + len + 1 > t->pool_cap) {
		size_t cap = t->pool_cap ? t->pool_cap * 2 : 65536;
		while (cap < t->pool_len + len + 1)
			cap *= 2;
		if (cap > UINT32_MAX)
			return err_new(ERR_CORRUPT, "%s: symbol names too large", t->name);
		char *p = realloc(t->pool, cap);
		if (!p)
			return err_new(ERR_NOMEM, "out of memory");
		t->pool = p;
		t->pool_cap = cap;
	}
	memcpy(t->pool + t->pool_len, name, len);
	t->pool[t->pool_len + len] = '\0';
	t->name_off[t->n] = (uint32_t)t->pool_len;
	t->pool_len += len + 1;
	t->addr[t->n] = addr;
	t->type[t->n] = type;
	t->n++;
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
	free(t->by_addr);
	t->by_addr = malloc((t->n ? t->n : 1) * sizeof(*t->by_addr));
	if (!t->hash || !t->by_addr)
		return err_new(ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < t->n; i++) {
		const char *s = symtab_name(t, i);
		size_t h = symtab_hash_str(s, strlen(s)) & (t->hash_cap - 1);
		/* First definition wins, as in kallsyms_lookup_name(). */
		bool dup = false;
		while (t->hash[h]) {
			if (!strcmp(symtab_name(t, t->hash[h] - 1), s)) {
				dup = true;
				break;
			}
			h = (h + 1) & (t->hash_cap - 1);
		}
		if (!dup)
			t->hash[h] = (uint32_t)i + 1;
		t->by_addr[i] = (uint32_t)i;
	}
	/* Sorted by address on the first symbolize: only `dis` asks, and
	 * sorting vmlinux's 94k symbols was 2% of every run. */
	t->by_addr_sorted = false;
	return NULL;
}

bool symtab_lookup(const struct symtab *t, const char *name, uint64_t *addr)
{
	if (!t->hash)
		return false;
	size_t h = symtab_hash_str(name, strlen(name)) & (t->hash_cap - 1);
	while (t->hash[h]) {
		uint32_t i = t->hash[h] - 1;
		if (!strcmp(symtab_name(t, i), name)) {
			*addr = t->addr[i];
			return true;
		}
		h = (h + 1) & (t->hash_cap - 1);
	}
	return false;
}

const char *symtab_symbolize(const struct symtab *t, uint64_t addr, uint64_t *offset)
{
	size_t lo = 0, hi = t->n;
	if (!t->by_addr || !t->n)
		return NULL;
	if (!t->by_addr_sorted) {
		/* A lazily built index; the table itself is not const. */
		struct symtab *m = (struct symtab *)t;
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
