/* The resolved layout of KVM's structures (struct kvm, memslots,
 * kvm_mmu_page, vCPUs, mm/task), shared by every reader in src/kobj. */
#ifndef KOBJ_LAYOUT_H
#define KOBJ_LAYOUT_H

#include <stdbool.h>
#include <stdint.h>

#include "symtab/types.h"

/* In a layout loader (whose error variable is E): resolve a member the layout
 * cannot do without, or return the error that names it. */
#define LAYOUT_NEED(t, tn, path, m)                              \
	do {                                                     \
		if ((e = target_need_member(t, tn, path, m)))    \
			return e;                                \
	} while (0)

/* Offsets of everything KVM's objects are read by, resolved once from type
 * info when the host is loaded and owned by it (struct kvm_host.layout). */
struct kvm_layout {
	struct type_ref kvm, memslots, slot, sp, vcpu, mmu, mm, task;
	uint64_t kvm_size, memslots_size, slot_size, sp_size, vcpu_size, mmu_size;
	struct member vm_list, pid, mm_ptr, memslots_arr, vcpu_array, online_vcpus,
		tdp_mmu_roots, tdp_mmu_enabled, manual_protect, ring_size, mmio_value;
	bool has_tdp_mmu_enabled, has_manual, has_ring, has_mmio_value, has_tdp_roots;
	uint32_t nas;
	/* Before the xarray: struct kvm_vcpu *vcpus[N] */
	bool vcpus_is_array;
	uint32_t nvcpus_max;
	struct member ms_gfn_tree, ms_node_idx, ms_generation;
	bool has_ms_generation;
	/* Before the rb-trees: used_slots slots inline in memslots[], sorted by
	 * gfn descending, found by id through id_to_index[] */
	bool slots_are_array, has_id_to_index;
	struct member ms_used_slots, ms_slots, ms_id_to_index;
	uint32_t id_to_index_n;
	struct member s_gfn_node, s_base_gfn, s_npages, s_dirty_bitmap, s_uaddr, s_flags, s_id, s_as_id;
	bool has_as_id;
	uint64_t gfn_node_stride;
	struct member sp_link, sp_role, sp_gfn, sp_spt, sp_refcount, sp_level, sp_smm, sp_invalid,
		sp_guest_mode, sp_ad_disabled, sp_direct, sp_sched_zap;
	bool has_sched_zap, has_direct;
	struct member sp_tdp, sp_ptep;	/* tdp_mmu_page, ptep: optional */
	bool has_sp_tdp, has_sp_ptep;
	struct member v_id, v_idx, v_mode, v_mmu, m_root_hpa;
	struct member mm_owner, t_comm;
	bool has_owner;
};

#endif
