/* Private to the checks: KVM's books of one VM, gathered once before its
 * SPTEs stream past (sorted memslots, live dirty bitmaps, pending ring
 * entries, quiescence signals), and the VMM's page-table lookup. */
#ifndef CHECK_BOOKS_H
#define CHECK_BOOKS_H

#include "check/check.h"
#include "pml.h"

struct check_layout {
	bool have_lock, have_slots_lock, have_inval, inval_is_gfn, have_nr_logging,
		have_disable_nx, have_ring, have_sp_check, have_ptep, have_pgd, have_mm_users;
	struct member mmu_lock, slots_lock, inval, inval_start, inval_end, nr_logging, disable_nx,
		ms_generation;
	bool have_gen;		/* kvm.memslots[] and kvm_memslots.generation */
	struct member kvm_memslots;
	uint32_t nas;
	struct member ring_gfns, ring_reset, ring_dirty, ring_size, vcpu_ring;
	struct member gfn_slot, gfn_offset;	/* struct kvm_dirty_gfn */
	uint64_t gfn_entry_size;
	struct member sp_tdp, sp_role, sp_level, sp_gfn, sp_spt, sp_ptep, page_private;
	uint64_t page_size, vmemmap_base, sp_size;
	struct member mm_pgd, mm_users;
	struct type_ref memslots;
	/* kvm_arch_memory_slot: huge-page permission and write tracking */
	bool have_lpage, have_track;
	struct member s_lpage, s_track;
	uint64_t lpage_info_size;
	struct pml_layout pml;
};

struct pending_set {
	uint64_t *slot;
	size_t cap, n;
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
	struct pending_set ring;	/* (as_id << 16 | id) << 44 | offset */
	char ring_bad[4][200];		/* D6 evidence: broken indices, stray entries */
	int nring_bad;
	bool ring_unread;		/* some vCPU's ring could not be read */
	bool ring_mode;
	bool mmu_lock_held, slots_lock_held, gen_updating, mm_gone;
	bool mmu_lock_known;		/* the rwlock's count could be read */
	uint32_t mmu_lock_cnts;
	uint64_t mmu_lock_addr;
	uint64_t inval_count, inval_start, inval_end;
	bool disable_nx;
	uint64_t pgd_pa;
	struct pml_books pml;		/* vCPUs' PML pages (PML hosts, logging VMs) */
};

struct host_map {
	bool present, protnone, writable;
	int level;		/* 1 = 4K PTE, 2 = 2M PMD, 3 = 1G PUD */
	uint64_t pfn;		/* of the 4K page at the hva */
	uint64_t entry, entry_pa;
};

struct host_walker {
	struct target *T;
	int levels;		/* 4 or 5 */
	uint64_t cache_pa[5];
	uint64_t cache[5][512];
	bool cache_ok[5];
};

struct err *books_layout(struct target *T, struct check_layout *L, struct notes *notes);
struct err *books_load(struct target *T, const struct check_layout *L, const struct kvm_vm *vm,
		       struct vm_books *b, struct notes *notes);
void books_fini(struct vm_books *b);
/* Live hosts, before a finding on [GFN, GFN+NPAGES) of slot S (may be NULL)
 * is reported: re-read what it rests on (the slot's dirty-bitmap words, the
 * vCPUs' pending ring entries, the quiescence signals) into B and drop HW's
 * cached VMM page tables.  True if any of it changed. */
struct host_walker;
bool books_live_refresh(struct target *T, const struct check_layout *L, struct vm_books *b,
			struct host_walker *hw, const struct kvm_memslot *s, uint64_t gfn,
			uint64_t npages);
/* Record a pending dirty-ring entry (slot = as_id << 16 | id); -1 on ENOMEM. */
int books_ring_add(struct vm_books *b, uint32_t slot, uint64_t offset);
bool books_recorded(const struct vm_books *b, const struct kvm_memslot *s, uint64_t gfn);
const struct kvm_memslot *books_slot(const struct vm_books *b, int as_id, uint64_t gfn);
const uint64_t *books_bitmap(const struct vm_books *b, const struct kvm_memslot *s);
const struct slot_arch *books_arch(const struct vm_books *b, const struct kvm_memslot *s);

void host_walker_init(struct host_walker *w, struct target *T);
struct err *host_lookup(struct host_walker *w, uint64_t pgd_pa, uint64_t hva, struct host_map *m);

#endif
