/* KVM's shadow MMU in the dump: every shadow page of a VM (active_mmu_pages,
 * zapped_obsolete_pages, and the roots a vCPU holds that are on neither list,
 * found through their table's page->private), each with its decoded role,
 * and every vCPU's roots in root_mmu, guest_mmu and nested_mmu.  Shadow roots
 * join the VM's root list (kvm_vm.roots, mmu KVM_MMU_SHADOW) so that every
 * command walks both MMUs.  Offsets from type info by member presence. */
#ifndef KOBJ_SHADOW_H
#define KOBJ_SHADOW_H

#include <stdbool.h>
#include <stdint.h>

#include "symtab/target.h"

#define KVM_MAX_SHADOW_PAGES 100000

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
};

struct kvm_shadow {
	struct kvm_shadow_page *pages;	/* sorted by spt_pa after loading */
	size_t npages;
	uint64_t mmu_valid_gen;
	bool lists_read;		/* active_mmu_pages was walked whole */
};

/* The VM's roots in one vCPU MMU: root and the cached prev_roots. */
#define KVM_MMU_PREV_ROOTS 3
struct kvm_mmu_roots {
	uint64_t addr;		/* the struct kvm_mmu */
	uint64_t root_hpa, root_pgd;
	uint64_t prev_hpa[KVM_MMU_PREV_ROOTS], prev_pgd[KVM_MMU_PREV_ROOTS];
	int nprev;
	uint64_t pae_root;	/* 0: none */
	uint32_t root_role;
};

struct kvm_vcpu_mmus {
	enum kvm_vcpu_mmu current;	/* which of them arch.mmu points at */
	bool guest_mode;		/* the vCPU is in L2: on guest_mmu, or walking through nested_mmu */
	struct kvm_mmu_roots mmu[3];
};

struct kvm_host;
/* Fill every VM's shadow pages and vCPU MMUs and append its shadow roots
 * to its root list; what cannot be read is noted (VM incomplete). */
struct err *kvm_shadow_load(struct target *T, struct kvm_host *H);
void kvm_shadow_free(struct kvm_shadow *S);

const struct kvm_shadow_page *kvm_shadow_find(const struct kvm_shadow *S, uint64_t spt_pa);
/* The gfn of every entry of SP (kvm_mmu_page_get_gfn()): sp->gfn for
 * passthrough pages, gfn + index for direct ones, else the recorded
 * translation (read from the dump). */
struct err *kvm_shadow_gfns(struct target *T, const struct kvm_shadow_page *sp, uint64_t gfns[512]);
const char *kvm_vcpu_mmu_name(enum kvm_vcpu_mmu m);

#endif
