/* The VMM's side of a guest page: the host page tables of the VMM process
 * (its mm's pgd) walked at an hva, with a one-page-per-level cache so that
 * consecutive gfns cost one lookup each. */
#ifndef MMU_HOST_H
#define MMU_HOST_H

#include <stdbool.h>
#include <stdint.h>

#include "symtab/target.h"

struct host_map {
	bool present, protnone, writable;
	int level;		/* 1 = 4K PTE, 2 = 2M PMD, 3 = 1G PUD */
	uint64_t pfn;		/* of the 4K page at the hva */
	uint64_t entry, entry_pa;
};

/* The hvas one 4K page table maps (2 MiB). */
#define HOST_PT_SPAN_SHIFT 21
/* x86-64 page-table entry bits (the architecture's, not the kernel's) */
#define HOST_P (1ull << 0)
#define HOST_RW (1ull << 1)
#define HOST_PSE (1ull << 7)
#define HOST_PROTNONE (1ull << 8)	/* _PAGE_PROTNONE: the global bit, when not present */
#define HOST_ADDR_BITS 0x000ffffffffff000ull	/* bits 12-51 */

struct host_walker {
	struct target *T;
	int levels;		/* 4 or 5 */
	uint64_t cache_pa[5];
	uint64_t cache[5][512];
	bool cache_ok[5];
	/* the last walk that reached a 4K table: the next hva of the same 2 MiB
	 * (and pgd) needs only that table's entry */
	bool near_ok, near_writable;
	uint64_t near_pgd, near_2m;
};

void host_walker_init(struct host_walker *w, struct target *T);
/* Forget the cached tables (live hosts: they may have changed). */
void host_walker_reset(struct host_walker *w);
struct err *host_lookup_walk(struct host_walker *w, uint64_t pgd_pa, uint64_t hva,
			     struct host_map *m);
/* The VMM's mapping of HVA under the page tables at PGD_PA.  Inline for the
 * common case, a present entry of the 4K table the last lookup reached
 * (the next gfns of a walk); host_lookup_walk for everything else. */
static inline struct err *host_lookup(struct host_walker *w, uint64_t pgd_pa, uint64_t hva,
				      struct host_map *m)
{
	if (w->near_ok && w->near_pgd == pgd_pa && w->near_2m == hva >> HOST_PT_SPAN_SHIFT &&
	    w->cache_ok[0]) {
		unsigned idx = (unsigned)(hva >> 12) & 511;
		uint64_t ent = w->cache[0][idx];
		if (ent & HOST_P) {
			*m = (struct host_map){
				.present = true, .writable = w->near_writable && (ent & HOST_RW),
				.level = 1, .entry = ent, .entry_pa = w->cache_pa[0] + idx * 8ull,
				.pfn = (ent & w->T->physical_mask & HOST_ADDR_BITS) >> 12,
			};
			return NULL;
		}
	}
	return host_lookup_walk(w, pgd_pa, hva, m);
}
/* The 4K page table a lookup of HVA will read (through the tables above
 * it, cached as host_lookup caches them): false if none (not present, a
 * huge page, unreadable). */
bool host_leaf_table(struct host_walker *w, uint64_t pgd_pa, uint64_t hva, uint64_t *pa);

#endif
