/* KVM's shadow MMU in the dump: every shadow page of a VM (active_mmu_pages,
 * zapped_obsolete_pages, and the roots a vCPU holds that are on neither list,
 * found through their table's page->private), each with its decoded role,
 * and every vCPU's roots in root_mmu, guest_mmu and nested_mmu.  Shadow roots
 * join the VM's root list (kvm_vm.roots, mmu KVM_MMU_SHADOW) so that every
 * command walks both MMUs.  Offsets from type info by member presence. */
#ifndef KOBJ_SHADOW_H
#define KOBJ_SHADOW_H

#include "kobj/shadow_types.h"
#include "symtab/target.h"

#define KVM_MAX_SHADOW_PAGES 100000

struct kvm_host;
/* Fill every VM's shadow pages and vCPU MMUs and append its shadow roots
 * to its root list; what cannot be read is noted (VM incomplete). */
struct err *kvm_shadow_load(struct target *T, struct kvm_host *H);

const struct kvm_shadow_page *kvm_shadow_find(const struct kvm_shadow *S, uint64_t spt_pa);
/* The gfn of every entry of SP (kvm_mmu_page_get_gfn()): sp->gfn for
 * passthrough pages, gfn + index for direct ones, else the recorded
 * translation (read from the dump). */
struct err *kvm_shadow_gfns(struct target *T, const struct kvm_shadow_page *sp, uint64_t gfns[512]);
/* The 512 entries of SP's table, as the dump holds them. */
struct err *kvm_shadow_table(struct target *T, const struct kvm_shadow_page *sp, uint64_t spte[512]);
/* The shadow page of S whose table holds kernel address SPTEP, or NULL. */
const struct kvm_shadow_page *kvm_shadow_page_at(struct target *T, const struct kvm_shadow *S,
						 uint64_t sptep);
/* The u64 at kernel address ADDR (an SPTE, an rmap head); false: unreadable. */
bool kvm_shadow_peek(struct target *T, uint64_t addr, uint64_t *v);
const char *kvm_vcpu_mmu_name(enum kvm_vcpu_mmu m);
/* "pae_root", "pml4_root", "pml5_root"; NULL for a shadow page root */
/* "pae_root", "pml4_root", "pml5_root"; NULL for a root with a shadow page.
 * Inline: the checks ask once per entry. */
static inline const char *kvm_root_special_name(enum kvm_root_special s)
{
	switch (s) {
	case ROOT_PAE: return "pae_root";
	case ROOT_PML4: return "pml4_root";
	case ROOT_PML5: return "pml5_root";
	default: return NULL;
	}
}

#endif
