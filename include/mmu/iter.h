/* An SPTE iterator in the spirit of the kernel's tdp_iter.h
 * (for_each_tdp_pte): pre-order over one root's tables, restricted to a gfn
 * range and a minimum level, with the path from the root kept for re-checks.
 * The root comes from the caller as a table address, a level and the first
 * gfn it covers (a TDP MMU root or, later, a shadow root), and what an entry
 * is comes from a pluggable classifier; nothing is decoded beyond that, and
 * nothing is allocated per entry.  A table reached twice, or one that cannot
 * be read, is yielded as an event at the entry pointing to it, never
 * entered. */
#ifndef MMU_ITER_H
#define MMU_ITER_H

#include <stdbool.h>
#include <stdint.h>

#include "base/u64set.h"
#include "mmu/spte.h"
#include "symtab/target.h"

#define SPTE_ITER_MAX_LEVEL 5
#define SPTE_ITER_ENTRIES 512
#define SPTE_ITER_PAE_ENTRIES 4

enum walk_event {
	WALK_ENTRY,		/* a non-empty entry (present, MMIO, frozen, garbage) */
	WALK_UNREADABLE,	/* a table page could not be read (filtered, missing) */
	WALK_LOOP,		/* a table already walked is referenced again */
	WALK_BAD_CHILD,		/* a table pointer outside the dump's memory */
};

/* Read-ahead beyond the tables (-J): as the 4K-leaf tables below a level-2
 * entry are announced, the consumer adds the pages it will read for the 512
 * gfns of each, from GFN (the VMM's page table of their hvas, say): at most
 * MAX appended to PA, their count returned. */
typedef size_t (*spte_iter_more_fn)(void *arg, uint64_t gfn, uint64_t *pa, size_t max);
#define SPTE_ITER_MORE_MAX 2

/* What an entry is: only its kind (the decode of bits is the consumer's). */
typedef enum spte_kind (*spte_classify_fn)(const struct spte_masks *m, uint64_t spte);

struct spte_iter_root {
	uint64_t table_pa;	/* the root's table page */
	int level;		/* of its entries: 4 or 5 for TDP roots */
	uint64_t gfn;		/* first gfn it covers */
	/* 0, or the level whose table is a PAE root's page directory
	 * pointers: 4 entries, the rest of its page not KVM's (not read);
	 * INVALID_PAGE (all ones, the empty entry before 5.13) reads as 0. */
	int pae_level;
};

enum { SPTE_ITER_EMPTY = 1 };	/* yield empty entries too (one-gfn lookups) */

struct spte_iter {
	/* The position, valid while spte_iter_next returns true.  For an
	 * event, the entry is the one pointing at the table (level, gfn,
	 * spte, table_pa, index; index -1 and table_pa 0 for the root) and
	 * CHILD_PA the table that was not entered. */
	enum walk_event event;
	enum spte_kind kind;
	int level;
	uint64_t gfn, spte, table_pa, child_pa;
	int index;
	const char *why;	/* events: until the next call */
	bool is_table;		/* present, not a leaf: next steps into it */
	/* Path from the root: the entry at each level (index level - 1)
	 * down to the current one. */
	uint64_t path_pa[SPTE_ITER_MAX_LEVEL], path_spte[SPTE_ITER_MAX_LEVEL];
	int path_idx[SPTE_ITER_MAX_LEVEL];
	int root_level;
	bool nomem;		/* stopped: no memory to track tables */
	uint64_t tables;	/* table pages read */
	spte_iter_more_fn more;	/* NULL, or set between walks (kept by start) */
	void *more_arg;

	/* private */
	struct target *T;
	const struct spte_masks *m;
	spte_classify_fn classify;
	uint64_t lo, hi;
	int min_level, pae_level;
	unsigned flags;
	int cur;			/* level being scanned; > root_level: done */
	uint64_t base[SPTE_ITER_MAX_LEVEL];	/* first gfn of each level's table */
	int last[SPTE_ITER_MAX_LEVEL];		/* ... and its last entry in [lo, hi] */
	bool pending;			/* a table to enter before scanning on */
	uint64_t pend_pa, pend_gfn;
	int pend_level;
	struct err *err;
	struct u64set seen;
	uint64_t table[SPTE_ITER_MAX_LEVEL][SPTE_ITER_ENTRIES];
	uint64_t again[SPTE_ITER_ENTRIES];	/* live: the second read of a table */
};

/* Begin at ROOT over gfns [LO, HI] (inclusive), entering no table below
 * MIN_LEVEL (1: every entry).  CLASSIFY NULL: spte_classify.  An error for a
 * root level outside 1..5. */
struct err *spte_iter_start(struct spte_iter *it, struct target *T, const struct spte_masks *m,
			    spte_classify_fn classify, const struct spte_iter_root *root, uint64_t lo,
			    uint64_t hi, int min_level, unsigned flags);
/* Step to the next entry or event in pre-order; false at the end (or on
 * it->nomem). */
bool spte_iter_next(struct spte_iter *it);
/* Do not step into the current entry's table. */
static inline void spte_iter_skip_children(struct spte_iter *it)
{
	it->is_table = false;
}
void spte_iter_fini(struct spte_iter *it);

/* Live hosts: read the entry at LEVEL on the current path again, and every
 * entry above it.  WALK_SAME: all as walked; WALK_ENTRY_CHANGED: the path
 * holds, *NOW is the entry's new value; WALK_PATH_CHANGED: a table above it
 * changed (or cannot be read). */
enum walk_recheck { WALK_SAME, WALK_ENTRY_CHANGED, WALK_PATH_CHANGED };
enum walk_recheck spte_iter_recheck(struct spte_iter *it, int level, uint64_t spte, uint64_t *now);

#endif
