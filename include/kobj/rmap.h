/* The shadow MMU's own books of one VM, as the kernel keeps them beside the
 * tables: the reverse maps (memslot->arch.rmap[level]: for each gfn, the
 * SPTEs that map it), each shadow page's parent_ptes (the entries that link
 * it) and unsync_child_bitmap.
 * Values only; the checks that compare them with the tables (S16-S18) are in
 * src/check.  Every walk is bounded; a chain that loops, a desc seen twice,
 * an unreadable array leave that part incomplete, with the reason. */
#ifndef KOBJ_RMAP_H
#define KOBJ_RMAP_H

#include <stdbool.h>
#include <stdint.h>

#include "kobj/kvm.h"

/* One sptep a memslot's rmap holds. */
struct kvm_rmap_entry {
	uint64_t sptep;		/* kernel VA of the SPTE */
	uint64_t gfn;		/* the rmap slot's first gfn (aligned at LEVEL) */
	uint64_t head;		/* the kvm_rmap_head holding it */
	int level, as_id, slot;
};

/* One entry of a shadow page's parent_ptes. */
struct kvm_parent_pte {
	uint64_t sptep;
	size_t page;		/* index of the child in kvm_shadow.pages */
};

struct kvm_rmap_slot {
	uint64_t arr[4];	/* memslot->arch.rmap[level - 1]; 0: none */
	int nlevels;
};

struct kvm_shadow_books {
	bool rmap_ok;			/* every rmap was read whole */
	char rmap_why[200];		/* else: the first reason */
	struct kvm_rmap_entry *rmap;	/* sorted by sptep */
	size_t nrmap;
	struct kvm_rmap_slot *slots;	/* parallel to vm->slots */
	bool parents_ok;
	char parents_why[200];
	struct kvm_parent_pte *parents;	/* sorted by sptep */
	size_t nparents;
	size_t *nparents_of;		/* per page: how many parent_ptes it lists */
	bool bitmap_ok;
	uint64_t (*bitmap)[8];		/* per page: unsync_child_bitmap */
};

#define KVM_MAX_RMAP_ENTRIES (1u << 22)

/* Read the books of VM (whose shadow pages kvm_shadow_load read).  Missing
 * members leave that part not ok with the reason; errors only for memory. */
struct err *kvm_shadow_books_load(struct target *T, const struct kvm_vm *vm,
				  struct kvm_shadow_books *B);
void kvm_shadow_books_free(struct kvm_shadow_books *B);
/* The rmap entries of SPTEP: the first index in B->rmap, n set to how many. */
size_t kvm_rmap_find(const struct kvm_shadow_books *B, uint64_t sptep, size_t *n);
/* True if SPTEP is on page PAGE's parent_ptes. */
bool kvm_parent_has(const struct kvm_shadow_books *B, size_t page, uint64_t sptep);

#endif
