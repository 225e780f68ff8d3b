/* A symbol table: names, addresses and type letters of one object (vmlinux
 * or one module), with name lookup by hash and address lookup by sorted
 * index.  Filled from kallsyms, a module's symtab or a System.map. */
#ifndef SYMTAB_SYMTAB_H
#define SYMTAB_SYMTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

/* Where a table's symbols come from when they are read on demand rather
 * than all at once (kallsyms with its name index, 6.2+; a module's symtab):
 * LOOKUP answers a name as the filled table would (NULL: the first lookup
 * fills the table, and a table that cannot be read has no names); FILL adds
 * every symbol and finishes T; FREE releases SRC.  COUNT is how many symbols
 * there are (0: not known before they are read). */
struct symtab;

struct symtab_source {
	bool (*lookup)(void *src, const char *name, uint64_t *addr);
	struct err *(*fill)(void *src, struct symtab *t);
	void (*free)(void *src);
};

struct symtab {
	char *name;		/* "vmlinux" or the module name */
	size_t n, cap;
	uint64_t *addr;
	uint32_t *name_off;	/* into pool */
	char *type;
	char *pool;
	size_t pool_len, pool_cap;
	uint32_t *name_hash;	/* symtab_hash of each name, computed as it is added */
	uint32_t *hash;		/* open addressing: index + 1, 0 = empty */
	size_t hash_cap;
	uint32_t *by_addr;	/* built and sorted on the first symbolize */
	bool by_addr_sorted;
	/* on demand: lookups go to SRC until symtab_complete fills the arrays
	 * above (n is 0 until then; symtab_count is what it will be) */
	const struct symtab_source *src_ops;
	void *src;
	size_t src_count;
	struct err *src_err;	/* a source without LOOKUP that could not be read */
};

struct err *symtab_init(struct symtab *t, const char *name);
void symtab_fini(struct symtab *t);
/* Room for N symbols and POOL bytes of names (with their NULs) in all, so
 * that adding them does not reallocate; a hint, adding beyond it works. */
struct err *symtab_reserve(struct symtab *t, size_t n, size_t pool);
struct err *symtab_add(struct symtab *t, const char *name, size_t len, uint64_t addr, char type);
/* T answers through SRC (OPS, COUNT symbols) until completed; T owns SRC. */
void symtab_set_source(struct symtab *t, const struct symtab_source *ops, void *src, size_t count);
/* Every symbol in the arrays (what iterates over them needs): a table read
 * on demand is read whole now; a filled one is left as it is. */
struct err *symtab_complete(struct symtab *t);
/* Symbols in T, read or not. */
static inline size_t symtab_count(const struct symtab *t)
{
	return t->src ? t->src_count : t->n;
}
/* Build the lookup indexes once all symbols are in. */
struct err *symtab_finish(struct symtab *t);
bool symtab_lookup(const struct symtab *t, const char *name, uint64_t *addr);
/* Nearest symbol at or below ADDR; returns its name or NULL.  A table read
 * on demand is completed first (NULL if that fails: symtab_complete says
 * why). */
const char *symtab_symbolize(const struct symtab *t, uint64_t addr, uint64_t *offset);
/* The hash of the LEN bytes at S that the name index uses. */
uint32_t symtab_hash(const char *s, size_t len);
static inline const char *symtab_name(const struct symtab *t, size_t i)
{
	return t->pool + t->name_off[i];
}

#endif
