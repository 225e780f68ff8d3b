#include "mmu/host.h"

#include <stdlib.h>
#include <string.h>

void host_walker_init(struct host_walker *w, struct target *T)
{
	memset(w, 0, sizeof(*w));
	w->T = T;
	const char *l5 = dump_vmcoreinfo(T->dump, "NUMBER(pgtable_l5_enabled)");
	w->levels = l5 && atoi(l5) ? 5 : 4;
}

void host_walker_reset(struct host_walker *w)
{
	memset(w->cache_ok, 0, sizeof(w->cache_ok));
	w->near_ok = false;
}

/* The table at TABLE for LEVEL, from the one page kept per level. */
static struct err *host_table(struct host_walker *w, int level, uint64_t table)
{
	int slot = level - 1;
	if (w->cache_ok[slot] && w->cache_pa[slot] == table)
		return NULL;
	struct err *e = dump_read_phys(w->T->dump, table, w->cache[slot], PAGE_SIZE);
	w->cache_ok[slot] = !e;
	w->cache_pa[slot] = table;
	return e;
}

bool host_leaf_table(struct host_walker *w, uint64_t pgd_pa, uint64_t hva, uint64_t *pa)
{
	uint64_t table = pgd_pa, addr_mask = w->T->physical_mask & HOST_ADDR_BITS;
	for (int level = w->levels; level >= 2; level--) {
		struct err *e = host_table(w, level, table);
		if (e) {
			err_free(e);
			return false;
		}
		uint64_t ent = w->cache[level - 1][(hva >> (12 + 9 * (level - 1))) & 511];
		if (!(ent & HOST_P) || ((level == 2 || level == 3) && (ent & HOST_PSE)))
			return false;
		table = ent & addr_mask;
	}
	*pa = table;
	return true;
}

struct err *host_lookup_walk(struct host_walker *w, uint64_t pgd_pa, uint64_t hva,
			     struct host_map *m)
{
	memset(m, 0, sizeof(*m));
	uint64_t table = pgd_pa, addr_mask = w->T->physical_mask & HOST_ADDR_BITS;
	bool writable = true; /* write access needs R/W at every level */
	int level = w->levels;
	if (w->near_ok && w->near_pgd == pgd_pa && w->near_2m == hva >> HOST_PT_SPAN_SHIFT &&
	    w->cache_ok[0]) {
		table = w->cache_pa[0];
		writable = w->near_writable;
		level = 1;
	}
	w->near_ok = false;
	for (; level >= 1; level--) {
		int slot = level - 1;
		/* Consecutive gfns share their tables: keep one page per level. */
		struct err *e = host_table(w, level, table);
		if (e)
			return err_wrap(e, "VMM page table");
		int idx = (int)((hva >> (12 + 9 * (level - 1))) & 511);
		uint64_t ent = w->cache[slot][idx];
		m->entry = ent;
		m->entry_pa = table + (uint64_t)idx * 8;
		m->level = level;
		if (level == 1) { /* this table serves the rest of its 2 MiB */
			w->near_ok = true;
			w->near_writable = writable;
			w->near_pgd = pgd_pa;
			w->near_2m = hva >> HOST_PT_SPAN_SHIFT;
		}
		writable = writable && (ent & HOST_RW);
		if (!(ent & HOST_P)) {
			/* PROT_NONE (NUMA hinting) keeps the page but drops P. */
			m->protnone = level == 1 && (ent & HOST_PROTNONE) && (ent & addr_mask);
			if (m->protnone)
				m->pfn = (ent & addr_mask) >> 12;
			return NULL;
		}
		if (level == 1 || ((level == 2 || level == 3) && (ent & HOST_PSE))) {
			uint64_t span = 1ull << (9 * (level - 1));
			uint64_t base = (ent & addr_mask & ~((span << 12) - 1)) >> 12;
			m->present = true;
			m->writable = writable;
			m->pfn = base + ((hva >> 12) & (span - 1));
			return NULL;
		}
		table = ent & addr_mask;
	}
	return NULL;
}
