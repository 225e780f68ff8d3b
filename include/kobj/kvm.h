/* KVM's objects in the dump: every VM on vm_list with its memslots, TDP MMU
 * roots and vCPUs, plus the host-wide switches and SPTE masks.  Offsets come
 * from type info by field presence; every walk is bounded. */
#ifndef KOBJ_KVM_H
#define KOBJ_KVM_H

#include <stdbool.h>
#include <stdint.h>

#include "base/notes.h"
#include "kobj/layout.h"
#include "kobj/masks.h"
#include "kobj/shadow_types.h"
#include "symtab/target.h"

#define KVM_MAX_VMS 4096
#define KVM_MAX_SLOTS 65536
#define KVM_MAX_ROOTS 4096
#define KVM_MAX_VCPUS_READ 4096

/* KVM_MEM_* flags as the uAPI defines them (ABI, not layout). */
#define KVM_MEM_LOG_DIRTY_PAGES (1u << 0)
#define KVM_MEM_READONLY (1u << 1)
#define KVM_MEM_GUEST_MEMFD (1u << 2)
/* KVM's own flag on a memslot being deleted or moved (KVM_MEMSLOT_INVALID,
 * kvm_host.h, bit 16 since 3.9): a #define, so in no type info; ABI of KVM's
 * own code like the mode values. */
#define KVM_MEMSLOT_INVALID (1u << 16)

struct kvm_memslot {
	uint64_t addr;
	int as_id, id;
	uint64_t base_gfn, npages, userspace_addr, dirty_bitmap;
	uint32_t flags;
};

enum kvm_mmu_kind { KVM_MMU_TDP, KVM_MMU_SHADOW };

struct kvm_root {
	uint64_t sp, spt, spt_pa, gfn;
	uint32_t role;
	int level, smm;
	bool guest_mode, ad_disabled, invalid, direct;
	int64_t refcount;	/* tdp_mmu_root_count, or a shadow root's root_count */
	enum kvm_mmu_kind mmu;
	/* Shadow roots: the VM's shadow pages (how the walk derives gfns),
	 * the rest of the role, and the first vCPU MMU holding it. */
	const struct kvm_shadow *shadow;
	int quadrant, access;
	bool passthrough, unsync, obsolete;
	enum kvm_sp_list list;
	int held_vcpu;		/* -1: no vCPU holds it */
	enum kvm_vcpu_mmu held_mmu;
	int held_prev;		/* -1: the MMU's root, else prev_roots[n] */
	enum kvm_root_special special;	/* not ROOT_SP: sp is 0, spt the MMU's page */
	uint64_t pae_child[SPTE_PAE_ENTRIES];	/* special: the shadow page each PAE
						 * entry reaches (its table's pa), 0: none */
};

/* The address naming a root (--root, diff): its kvm_mmu_page, or for a
 * special root, which has none, its page's physical address. */
static inline uint64_t kvm_root_id(const struct kvm_root *r)
{
	return r->special != ROOT_SP ? r->spt_pa : r->sp;
}

/* The level whose table is a special root's PAE page (PT32E_ROOT_LEVEL;
 * it and the levels above hold KVM's own entries, not SPTEs); 0: none. */
static inline int kvm_root_pae_level(const struct kvm_root *r)
{
	return r->special != ROOT_SP ? 3 : 0;
}

/* An entry at LEVEL under R is one of KVM's own special-root entries. */
static inline bool kvm_root_special_entry(const struct kvm_root *r, int level)
{
	return kvm_root_pae_level(r) && level >= kvm_root_pae_level(r);
}

/* A root of the nested guest's (L2) space: role.guest_mode, or held in a
 * vCPU's guest_mmu (5.10 computes the nested NPT role before it enters
 * guest mode, so its L2 roots have guest_mode 0). */
static inline bool kvm_root_l2(const struct kvm_root *r)
{
	return r->guest_mode || (r->mmu == KVM_MMU_SHADOW && r->held_mmu == MMU_GUEST);
}

struct kvm_vcpu_info {
	uint64_t addr;
	uint64_t mmu;		/* vcpu->arch.mmu */
	int idx, vcpu_id, mode;
	uint64_t root_hpa;	/* UINT64_MAX: no root loaded */
	struct kvm_vcpu_mmus mmus;	/* filled by kvm_shadow_load */
	bool have_mmus;
};

struct kvm_vm {
	uint64_t addr;		/* struct kvm */
	int pid;
	char comm[17];		/* "" if unknown */
	uint64_t mm;
	int online_vcpus;
	uint64_t manual_dirty_log_protect;
	uint32_t dirty_ring_size;
	int tdp_mmu;		/* 1 on, 0 off, -1 unknown */
	struct kvm_memslot *slots;
	size_t nslots;
	struct kvm_root *roots;
	size_t nroots;
	struct kvm_vcpu_info *vcpus;
	size_t nvcpus;
	struct kvm_shadow shadow;	/* shadow pages (kvm_shadow_load) */
	bool incomplete;	/* something of this VM could not be read */
	bool slots_incomplete;	/* ... its memslots: a gfn outside them proves nothing */
	/* What the VM's memslot sets were when read: on a live host, a set
	 * that is no longer current (pointer or generation) means it changed
	 * under us. */
	uint64_t memslots_ptr[8], memslots_gen[8];
};

struct kvm_host {
	const char *vendor;	/* "kvm_amd", "kvm_intel" or NULL */
	int tdp_enabled, tdp_mmu_enabled;	/* -1 unknown */
	int max_huge_page_level;
	struct spte_masks masks;
	struct kvm_vm *vms;
	size_t nvms;
	int address_spaces;
	struct notes notes;	/* what could not be analysed */
	struct kvm_layout layout;	/* resolved once by kvm_vms_load */
};

/* The VMs on vm_list with their memslots, roots and vCPUs, without the
 * shadow MMU: kvm_host_load (kobj/host_load.h) reads both. */
struct err *kvm_vms_load(struct target *T, struct kvm_host *H);
void kvm_host_fini(struct kvm_host *H);

/* Live hosts: true if VM's memslot sets, TDP MMU roots or vCPU roots are no
 * longer what was read (or can no longer be read); WHAT names the first
 * difference.  Always false on a dump, which does not change. */
bool kvm_vm_changed(struct target *T, const struct kvm_host *H, const struct kvm_vm *vm, char *what,
		    size_t len);

/* A global of kvm.ko (or else vmlinux) of SIZE bytes; FOUND says whether
 * the symbol exists and could be read. */
uint64_t kvm_read_global(struct target *T, const char *name, size_t size, bool *found);

const struct kvm_memslot *kvm_vm_slot_for(const struct kvm_vm *vm, int as_id, uint64_t gfn);
/* Read the live half of a slot's dirty bitmap: ceil(npages/64) words. */
struct err *kvm_slot_bitmap(struct target *T, const struct kvm_memslot *s, uint64_t **words,
			    size_t *nwords);

#endif
