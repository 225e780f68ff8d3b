/* KVM's hash of shadow pages by gfn: kvm->arch.mmu_page_hash, an array of
 * hlist_heads (in struct kvm up to 6.x, a pointer to one allocated when the
 * shadow MMU is first needed later; NULL before), linked through
 * kvm_mmu_page.hash_link.  It is how KVM finds the shadow pages of a gfn
 * (kvm_mmu_get_shadow_page reuse, write protection, unsync, unprotect).
 * Values only; S19 (src/check) compares it with the VM's shadow pages.
 * Every bucket walk is bounded: a node met twice, an unreadable node or an
 * entry that is no shadow page of the VM ends that bucket, with the reason. */
#ifndef KOBJ_SPHASH_H
#define KOBJ_SPHASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kobj/kvm.h"

/* KVM_NUM_MMU_PAGES (1 << KVM_MMU_HASH_SHIFT, 12 in every kernel since 4.9):
 * the count the pointer era allocates (kvcalloc(KVM_NUM_MMU_PAGES, ...)),
 * a #define that no type info holds. */
#define KVM_HASH_DEFAULT_BUCKETS 4096u
#define KVM_HASH_MAX_BUCKETS (1u << 16)

enum kvm_hash_state {
	HASH_UNKNOWN,	/* not read: why says why */
	HASH_NULL,	/* the pointer is NULL: the shadow MMU was never needed */
	HASH_READ,
};

struct kvm_hash_entry {
	uint64_t node;		/* &sp->hash_link, as the chain holds it */
	uint64_t sp;		/* node - offsetof(hash_link) */
	uint64_t pprev;		/* the node's hash_link.pprev */
	uint32_t bucket, pos;
	size_t page;		/* index in vm->shadow.pages; SIZE_MAX: none of them */
	bool pprev_ok;		/* pprev is the address of the link that led here */
	/* For an entry that is no page of vm->shadow: its kvm_mmu_page as far
	 * as it could be read (read false: not at all). */
	bool read, tdp, invalid;
	int level;
	int32_t root_count;
	uint64_t gfn;
};

struct kvm_sp_hash {
	enum kvm_hash_state state;
	char why[200];			/* HASH_UNKNOWN: the reason */
	uint64_t addr;			/* the bucket array */
	uint32_t nbuckets;
	bool any;			/* some bucket head is not NULL */
	unsigned shift;			/* log2(nbuckets): the bucket is hash_64(gfn, shift) */
	char count_from[160];		/* where nbuckets comes from */
	uint64_t link_off;		/* offsetof(struct kvm_mmu_page, hash_link) */
	char off_from[160];		/* where link_off comes from */
	struct kvm_hash_entry *e;	/* in bucket order, then chain order */
	size_t n;
	uint8_t *cut;			/* per bucket: 1 when its walk stopped early */
	uint32_t ncut;
	char cut_why[200];		/* the first reason */
};

/* Read VM's hash (its shadow pages already loaded).  Layout gaps and
 * unreadable memory leave state HASH_UNKNOWN with the reason; errors only
 * for memory. */
struct err *kvm_sp_hash_load(struct target *T, const struct kvm_vm *vm, struct kvm_sp_hash *h);
void kvm_sp_hash_free(struct kvm_sp_hash *h);
/* The bucket of GFN: hash_64(gfn, shift), as kvm_page_table_hashfn. */
uint32_t kvm_sp_hash_bucket(const struct kvm_sp_hash *h, uint64_t gfn);

#endif
