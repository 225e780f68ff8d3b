/* KVM's dirty-log books of one VM, read once before its SPTEs stream past:
 * the memslots sorted, their live dirty bitmaps and arch arrays, the
 * vCPUs' pending dirty-ring entries and PML pages, the quiescence signals
 * (mmu_lock, slots_lock, an invalidation, a memslot update in flight) and
 * where the VMM's page tables are.  Values only: the judgements are in
 * src/check. */
#ifndef KOBJ_BOOKS_H
#define KOBJ_BOOKS_H

#include "base/u64set.h"
#include "kobj/kvm.h"
#include "kobj/pml.h"

/* What of the books this kernel lets us read, beyond struct kvm_layout. */
struct books_layout {
	const struct kvm_layout *K;	/* the host's */
	bool have_lock, have_slots_lock, have_inval, inval_is_gfn, have_nr_logging,
		have_disable_nx, have_ring, have_sp_check, have_pgd, have_mm_users;
	struct member mmu_lock, slots_lock, inval, inval_start, inval_end, nr_logging, disable_nx;
	bool have_gen;		/* kvm.memslots[] and kvm_memslots.generation */
	struct member ring_gfns, ring_reset, ring_dirty, ring_size, vcpu_ring;
	struct member gfn_slot, gfn_offset;	/* struct kvm_dirty_gfn */
	uint64_t gfn_entry_size;
	struct member page_private;
	uint64_t page_size, vmemmap_base;
	struct member mm_pgd, mm_users;
	/* kvm_arch_memory_slot: huge-page permission and write tracking */
	bool have_lpage, have_track;
	struct member s_lpage, s_track;
	uint64_t lpage_info_size;
	struct pml_layout pml;
	/* host-wide values the checks judge by */
	uint64_t zero_pfn, huge_zero_pfn;	/* 0: unknown / none */
	int nx_huge_pages;
	bool ad_always;		/* kvm_ad_enabled exists: 6.13+ A/D semantics */
	bool aging_clears_dirty;	/* age_gfn_range clears D, leaves W (5.10): D7 means nothing */
};

/* A child table's own kvm_mmu_page, found through page->private. */
struct books_sp {
	uint64_t page, sp;	/* struct page of the table, its private */
	uint64_t spt, tdp, level, gfn, ptep;
	uint32_t role, level_mask;	/* role.level's bits within role.word */
	bool have_ptep;
};

struct slot_arch {
	uint64_t lpage[2];	/* kvm_lpage_info arrays for 2M and 1G, 0 if unknown */
	uint64_t track;		/* u16 write-track counters per gfn, 0 if none */
};

struct vm_books {
	const struct kvm_vm *vm;
	struct kvm_memslot *slots;	/* sorted by (as_id, base_gfn) */
	uint64_t **bitmaps;		/* parallel to slots; NULL if none */
	struct slot_arch *arch;		/* parallel to slots */
	struct u64set ring;		/* books_ring_key() of each pending entry */
	char ring_bad[4][200];		/* broken indices, stray entries (D6 evidence) */
	int nring_bad;
	bool ring_unread;		/* some vCPU's ring could not be read */
	bool ring_mode;
	bool mmu_lock_held, slots_lock_held, gen_updating, mm_gone;
	bool mmu_lock_known;		/* the lock word could be read */
	uint32_t mmu_lock_cnts;
	uint64_t mmu_lock_addr;
	uint64_t inval_count, inval_start, inval_end;
	bool disable_nx;
	uint32_t nr_logging;		/* kvm->nr_memslots_dirty_logging */
	bool have_nr_logging;		/* ... was read */
	uint64_t pgd_pa;
	struct pml_books pml;		/* vCPUs' PML pages (PML hosts, logging VMs) */
};

struct err *books_layout_load(struct target *T, const struct kvm_host *H, struct books_layout *L,
			      struct notes *notes);
struct err *books_load(struct target *T, const struct books_layout *L, const struct kvm_vm *vm,
		       struct vm_books *b, struct notes *notes);
void books_fini(struct vm_books *b);
/* Live hosts, before a finding on [GFN, GFN+NPAGES) of slot S (may be NULL)
 * is reported: re-read what it rests on (the slot's dirty-bitmap words, the
 * vCPUs' pending ring entries, the quiescence signals) into B.  True if any
 * of it changed. */
bool books_live_refresh(struct target *T, const struct books_layout *L, struct vm_books *b,
			const struct kvm_memslot *s, uint64_t gfn, uint64_t npages);
/* Record a pending dirty-ring entry (slot = as_id << 16 | id); -1 on ENOMEM. */
int books_ring_add(struct vm_books *b, uint32_t slot, uint64_t offset);
bool books_recorded(const struct vm_books *b, const struct kvm_memslot *s, uint64_t gfn);
const struct kvm_memslot *books_slot(const struct vm_books *b, int as_id, uint64_t gfn);
/* books_slot for a walk asking gfn after gfn: *HINT (NULL at first) is the
 * last answer, which serves while it is still the one books_slot gives
 * (it holds GFN, and the next slot of its address space starts above). */
static inline const struct kvm_memslot *books_slot_near(const struct vm_books *b, int as_id,
							  uint64_t gfn,
							  const struct kvm_memslot **hint)
{
	const struct kvm_memslot *s = *hint;
	if (s && s->as_id == as_id && gfn - s->base_gfn < s->npages &&
	    (s + 1 == b->slots + b->vm->nslots || s[1].as_id != as_id || s[1].base_gfn > gfn))
		return s;
	s = books_slot(b, as_id, gfn);
	if (s)
		*hint = s;
	return s;
}
static inline const uint64_t *books_bitmap(const struct vm_books *b, const struct kvm_memslot *s)
{
	return b->bitmaps[s - b->slots];
}
static inline const struct slot_arch *books_arch(const struct vm_books *b,
						 const struct kvm_memslot *s)
{
	return &b->arch[s - b->slots];
}

/* The kvm_mmu_page of the table at physical address TABLE_PA. */
struct err *books_child_sp(struct target *T, const struct books_layout *L, uint64_t table_pa,
			   struct books_sp *out);
/* lpage_info[LEVEL - 2][...].disallow_lpage of the huge leaf at GFN of slot
 * S: true if read, with *AT and *IDX saying where. */
bool books_lpage_disallow(struct target *T, const struct books_layout *L, const struct vm_books *b,
			  const struct kvm_memslot *s, int level, uint64_t gfn, int32_t *value,
			  uint64_t *at, uint64_t *idx);
/* The u16 write-track counter of GFN in slot S: true if read.  W keeps
 * the page of counters a walk reads gfn after gfn. */
static inline bool books_write_track(struct target *T, const struct vm_books *b,
				     const struct kvm_memslot *s, uint64_t gfn, struct dump_window *w,
				     uint16_t *value, uint64_t *at)
{
	const struct slot_arch *sa = books_arch(b, s);
	if (!sa->track)
		return false;
	*at = sa->track + (gfn - s->base_gfn) * sizeof(uint16_t);
	*value = 0;
	return dump_window_peek(T->dump, w, *at, value, sizeof(*value));
}

#endif
