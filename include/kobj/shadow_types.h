/* The shadow MMU's values as the VM holds them (kvm_vm.shadow, the vCPUs'
 * MMU roots): types only, so that kobj/kvm.h can hold them without the
 * shadow MMU's reader (kobj/shadow.h), which builds on kobj/kvm.h. */
#ifndef KOBJ_SHADOW_TYPES_H
#define KOBJ_SHADOW_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum kvm_sp_list { SP_ACTIVE, SP_ZAPPED, SP_HELD };
enum kvm_vcpu_mmu { MMU_ROOT, MMU_GUEST, MMU_NESTED, MMU_NONE = -1 };
/* How the gfns of a non-direct page's entries are recorded. */
enum kvm_sp_xlat { XLAT_NONE, XLAT_TRANSLATION /* gfn << 12 | access */, XLAT_GFNS };

struct kvm_shadow_page {
	uint64_t sp, spt, spt_pa, gfn;
	uint32_t role;
	int level, quadrant, access, has_4_byte_gpte;
	bool direct, invalid, guest_mode, passthrough, ad_disabled, efer_nx, cr0_wp;
	int smm;
	bool unsync, obsolete;
	uint32_t unsync_children;
	int32_t root_count;
	uint64_t mmu_valid_gen;
	uint64_t xlat;		/* shadowed_translation or gfns; 0: none */
	enum kvm_sp_xlat xlat_kind;
	enum kvm_sp_list list;
	bool under_special;	/* reached from a vCPU's pae_root (a PAE root's
				 * page directory): a root of it, not one of its own */
};

struct kvm_shadow {
	struct kvm_shadow_page *pages;	/* sorted by spt_pa after loading */
	size_t npages;
	uint64_t mmu_valid_gen;
	bool lists_read;		/* active_mmu_pages was walked whole */
	bool pae_unknown;		/* a vCPU root is no shadow page and pae_root's
					 * offset is unknown: it may be a PAE root */
};

/* The VM's roots in one vCPU MMU: root and the cached prev_roots. */
#define KVM_MMU_PREV_ROOTS 3
struct kvm_mmu_roots {
	uint64_t addr;		/* the struct kvm_mmu */
	uint64_t root_hpa, root_pgd;
	uint64_t prev_hpa[KVM_MMU_PREV_ROOTS], prev_pgd[KVM_MMU_PREV_ROOTS];
	int nprev;
	uint64_t pae_root;	/* 0: none */
	uint64_t pml4_root, pml5_root;	/* 0: none (or no such member) */
	uint32_t root_role;
};

/* A root that is no shadow page: the vCPU MMU's own pae_root page (4
 * PDPTE-like entries, each a level-2 shadow page), or the pml4_root /
 * pml5_root page above it (entry 0 the level below). */
enum kvm_root_special { ROOT_SP, ROOT_PAE, ROOT_PML4, ROOT_PML5 };
#define SPTE_PAE_ENTRIES 4

struct kvm_vcpu_mmus {
	enum kvm_vcpu_mmu current;	/* which of them arch.mmu points at */
	bool guest_mode;		/* the vCPU is in L2: on guest_mmu, or walking through nested_mmu */
	struct kvm_mmu_roots mmu[3];
};

#endif
