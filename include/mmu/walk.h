/* The SPTE walk: every entry of one TDP MMU root, depth-first in table
 * order (the SPTE iterator, mmu/iter.h), streamed to a callback that decodes
 * what it keeps (walk_bits).
 * One 4 KiB read per table, no allocation per SPTE, bounded depth, and a
 * table reached twice is reported, not re-walked. */
#ifndef MMU_WALK_H
#define MMU_WALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kobj/kvm.h"
#include "mmu/iter.h"
#include "mmu/spte.h"

struct walk_entry {
	enum walk_event event;
	const struct kvm_root *root;
	int level;		/* of the entry: 4 for a PML4 entry, 1 for a 4K leaf */
	/* First gfn the entry covers: the guest memory frame (memslots, rmaps,
	 * dirty logs key on it).  Under a TDP MMU or direct root it is ADDR_GFN;
	 * under a shadow root, kvm_mmu_page_get_gfn() of the page holding the
	 * entry (a table entry: its child page's gfn). */
	uint64_t gfn;
	uint64_t addr_gfn;	/* the input frame from the tree position (an L2 gfn
				 * under a nested root) */
	const struct kvm_shadow_page *sp;	/* shadow roots: the page holding it, or NULL */
	uint64_t spte;
	uint64_t table_pa;	/* table holding the entry */
	int index;
	enum spte_kind kind;	/* what the entry is (SPTE_EMPTY for an event) */
	/* The decoded bits: through walk_bits(), decoded on the first ask, so
	 * that a consumer dropping entries by level or gfn decodes none of
	 * them. */
	struct spte_bits lazy_bits;
	bool decoded;
	const struct spte_masks *masks;
	const char *why;	/* for UNREADABLE/LOOP/BAD_CHILD */
	bool no_page;		/* a special root's PAE entry reaching no shadow
				 * page of the VM: not entered */
};

/* Return nonzero to stop the walk. */
typedef int (*walk_fn)(void *arg, const struct walk_entry *e);

struct walk_range {
	uint64_t gfn_lo, gfn_hi;	/* inclusive; the whole space by default */
};

/* The last gfn a root of the deepest paging can map: a range from 0 to it
 * (or beyond) cuts no table. */
#define WALK_GFN_ALL ((UINT64_C(1) << (9 * SPTE_ITER_MAX_LEVEL)) - 1)

struct walk_stats {
	uint64_t tables, unreadable, loops, bad_children;
	uint64_t present, leaves, mmio, frozen, garbage;
};

struct walker;

struct err *walker_new(struct target *T, struct walker **out);
void walker_free(struct walker *w);
/* The consumer's own read-ahead for the walks that follow (NULL: none). */
void walker_set_more(struct walker *w, spte_iter_more_fn fn, void *arg);
/* Walk ROOT of VM (with the VM's masks); stats are added to STATS. */
struct err *walker_run(struct walker *w, const struct spte_masks *m, const struct kvm_root *root,
		       const struct walk_range *range, walk_fn fn, void *arg, struct walk_stats *stats);

/* Live hosts, from inside the callback for entry E: read the entry again,
 * and every entry on the path from the root down to it (spte_iter_recheck). */
enum walk_recheck walker_recheck(struct walker *w, const struct walk_entry *e, uint64_t *now);

/* Decode SPTE, an entry at LEVEL under ROOT: a special root's own entries
 * (its pae_root and above) by their own rule (spte_decode_special). */
void walk_decode(const struct spte_masks *m, const struct kvm_root *root, uint64_t spte, int level,
		 struct spte_bits *b);
/* The same for an entry already classified as KIND (the iterator's kind;
 * ignored for a special root's own entries). */
static inline void walk_decode_kind(const struct spte_masks *m, const struct kvm_root *root,
				    uint64_t spte, int level, enum spte_kind kind, struct spte_bits *b)
{
	if (kvm_root_special_entry(root, level))
		spte_decode_special(m, spte, b);
	else
		spte_decode_kind(m, spte, level, kind, b);
}

/* walk_bits' decode, by the rule of E's root (walk_decode_kind). */
void walk_entry_decode(struct walk_entry *e);

/* E's decoded bits (all zero for an event).  The entry is the walker's (or
 * the caller's own copy), never a const object: the decode is cached in it. */
static inline const struct spte_bits *walk_bits(const struct walk_entry *e)
{
	if (!e->decoded)
		walk_entry_decode((struct walk_entry *)e);
	return &e->lazy_bits;
}

/* Make E the entry SPTE at LEVEL (under E->root, NULL for none), decoded
 * now: for entries built outside a walk. */
void walk_entry_set_spte(struct walk_entry *e, const struct spte_masks *m, uint64_t spte, int level);

/* One line naming a non-entry walk event: VM, root, table, entry, why. */
void walk_event_describe(const struct walk_entry *e, int pid, char *buf, size_t len);

static inline uint64_t walk_level_pages(int level)
{
	return 1ull << (9 * (level - 1));
}

#endif
