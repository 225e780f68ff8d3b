#include "kobj/kvm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/array.h"
#include "kobj/klist.h"

static struct err *kvm_layout_load(struct target *T, struct kvm_layout *L)
{
	const struct types *ty = &T->types;
	struct err *e;
	memset(L, 0, sizeof(*L));
#define NEED LAYOUT_NEED
	L->kvm = types_struct(ty, "kvm", "kvm");
	if (!L->kvm.id)
		return err_new(ERR_LAYOUT, "no type info for struct kvm (kvm module BTF missing; "
			       "give --module kvm.ko)");
	L->kvm_size = types_size(L->kvm);
	NEED(L->kvm, "kvm", "vm_list", &L->vm_list);
	NEED(L->kvm, "kvm", "userspace_pid", &L->pid);
	NEED(L->kvm, "kvm", "mm", &L->mm_ptr);
	NEED(L->kvm, "kvm", "online_vcpus", &L->online_vcpus);
	/* no TDP MMU before 5.10: VMs, memslots and vCPUs are still shown */
	L->has_tdp_roots = types_member(L->kvm, "arch.tdp_mmu_roots", &L->tdp_mmu_roots);
	NEED(L->kvm, "kvm", "memslots", &L->memslots_arr);
	struct type_ref elem;
	uint32_t n;
	if (!types_array(L->memslots_arr.type, &elem, &L->nas) || !types_is_pointer(elem) ||
	    L->nas == 0 || L->nas > 8)
		return err_new(ERR_LAYOUT, "kvm.memslots is not an array of pointers");
	if (!types_member(L->kvm, "vcpu_array", &L->vcpu_array)) {
		/* before the xarray: an array of vCPU pointers */
		if (!types_member(L->kvm, "vcpus", &L->vcpu_array) ||
		    !types_array(L->vcpu_array.type, &elem, &L->nvcpus_max) || !types_is_pointer(elem) ||
		    L->nvcpus_max == 0)
			return err_new(ERR_LAYOUT, "struct kvm has neither vcpu_array nor an array vcpus[]");
		L->vcpus_is_array = true;
	}
	L->has_tdp_mmu_enabled = types_member(L->kvm, "arch.tdp_mmu_enabled", &L->tdp_mmu_enabled);
	L->has_manual = types_member(L->kvm, "manual_dirty_log_protect", &L->manual_protect);
	L->has_ring = types_member(L->kvm, "dirty_ring_size", &L->ring_size);
	L->has_mmio_value = types_member(L->kvm, "arch.shadow_mmio_value", &L->mmio_value);

	L->memslots = types_struct(ty, "kvm", "kvm_memslots");
	L->memslots_size = types_size(L->memslots);
	L->has_ms_generation = types_member(L->memslots, "generation", &L->ms_generation);
	L->slot = types_struct(ty, "kvm", "kvm_memory_slot");
	L->slot_size = types_size(L->slot);
	if (types_member(L->memslots, "used_slots", &L->ms_used_slots)) {
		L->slots_are_array = true;
		NEED(L->memslots, "kvm_memslots", "memslots", &L->ms_slots);
		if (!types_array(L->ms_slots.type, &elem, &n) || types_size(elem) != L->slot_size ||
		    L->slot_size == 0)
			return err_new(ERR_LAYOUT, "kvm_memslots.memslots is not an array of struct "
				       "kvm_memory_slot");
		/* optional: cross-checks each slot's position */
		L->has_id_to_index = types_member(L->memslots, "id_to_index", &L->ms_id_to_index) &&
				     types_array(L->ms_id_to_index.type, &elem, &L->id_to_index_n) &&
				     types_size(elem) == 2 && L->id_to_index_n > 0;
	} else {
		NEED(L->memslots, "kvm_memslots", "gfn_tree", &L->ms_gfn_tree);
		NEED(L->memslots, "kvm_memslots", "node_idx", &L->ms_node_idx);
		NEED(L->slot, "kvm_memory_slot", "gfn_node", &L->s_gfn_node);
		if (!types_array(L->s_gfn_node.type, &elem, &n) || n < 2)
			return err_new(ERR_LAYOUT, "kvm_memory_slot.gfn_node is not an array of two nodes");
		L->gfn_node_stride = types_size(elem);
	}
	NEED(L->slot, "kvm_memory_slot", "base_gfn", &L->s_base_gfn);
	NEED(L->slot, "kvm_memory_slot", "npages", &L->s_npages);
	NEED(L->slot, "kvm_memory_slot", "dirty_bitmap", &L->s_dirty_bitmap);
	NEED(L->slot, "kvm_memory_slot", "userspace_addr", &L->s_uaddr);
	NEED(L->slot, "kvm_memory_slot", "flags", &L->s_flags);
	NEED(L->slot, "kvm_memory_slot", "id", &L->s_id);
	/* The tree era checks it against the set; the array era's set index
	 * says the same, so there it is optional. */
	L->has_as_id = types_member(L->slot, "as_id", &L->s_as_id);
	if (!L->has_as_id && !L->slots_are_array)
		NEED(L->slot, "kvm_memory_slot", "as_id", &L->s_as_id);

	L->sp = types_struct(ty, "kvm", "kvm_mmu_page");
	L->sp_size = types_size(L->sp);
	NEED(L->sp, "kvm_mmu_page", "link", &L->sp_link);
	NEED(L->sp, "kvm_mmu_page", "role.word", &L->sp_role);
	NEED(L->sp, "kvm_mmu_page", "role.level", &L->sp_level);
	NEED(L->sp, "kvm_mmu_page", "role.smm", &L->sp_smm);
	NEED(L->sp, "kvm_mmu_page", "role.invalid", &L->sp_invalid);
	NEED(L->sp, "kvm_mmu_page", "role.guest_mode", &L->sp_guest_mode);
	NEED(L->sp, "kvm_mmu_page", "role.ad_disabled", &L->sp_ad_disabled);
	/* Always set on TDP MMU pages, and read for nothing else: optional. */
	L->has_direct = types_member(L->sp, "role.direct", &L->sp_direct);
	NEED(L->sp, "kvm_mmu_page", "gfn", &L->sp_gfn);
	NEED(L->sp, "kvm_mmu_page", "spt", &L->sp_spt);
	/* refcount_t, atomic_t, or (before 5.11's TDP MMU rework) the shadow
	 * MMU's int root_count */
	if (!types_member(L->sp, "tdp_mmu_root_count.refs.counter", &L->sp_refcount) &&
	    !types_member(L->sp, "tdp_mmu_root_count.counter", &L->sp_refcount))
		NEED(L->sp, "kvm_mmu_page", "root_count", &L->sp_refcount);
	L->has_sched_zap = types_member(L->sp, "tdp_mmu_scheduled_root_to_zap", &L->sp_sched_zap);
	/* Read only by the checks (S6), which run without them. */
	L->has_sp_tdp = types_member(L->sp, "tdp_mmu_page", &L->sp_tdp);
	L->has_sp_ptep = types_member(L->sp, "ptep", &L->sp_ptep);

	L->vcpu = types_struct(ty, "kvm", "kvm_vcpu");
	L->vcpu_size = types_size(L->vcpu);
	NEED(L->vcpu, "kvm_vcpu", "vcpu_id", &L->v_id);
	NEED(L->vcpu, "kvm_vcpu", "vcpu_idx", &L->v_idx);
	NEED(L->vcpu, "kvm_vcpu", "mode", &L->v_mode);
	NEED(L->vcpu, "kvm_vcpu", "arch.mmu", &L->v_mmu);
	L->mmu = types_struct(ty, "kvm", "kvm_mmu");
	L->mmu_size = types_size(L->mmu);
	if (!types_member(L->mmu, "root.hpa", &L->m_root_hpa))
		NEED(L->mmu, "kvm_mmu", "root_hpa", &L->m_root_hpa);

	L->mm = types_struct(ty, NULL, "mm_struct");
	L->task = types_struct(ty, NULL, "task_struct");
	L->has_owner = types_member(L->mm, "owner", &L->mm_owner) &&
		       types_member(L->task, "comm", &L->t_comm);
#undef NEED
	return NULL;
}

uint64_t kvm_read_global(struct target *T, const char *name, size_t size, bool *found)
{
	uint64_t addr, v = 0;
	*found = false;
	if (!target_symbol(T, "kvm", name, &addr) && !target_symbol(T, "vmlinux", name, &addr))
		return 0;
	struct err *e = dump_read_virt(T->dump, addr, &v, size);
	if (e) {
		err_free(e);
		return 0;
	}
	*found = true;
	return v;
}

static struct err *kvm_masks_load(struct target *T, struct kvm_host *H, bool era_bit63)
{
	struct spte_masks *m = &H->masks;
	static const struct {
		const char *name;
		size_t off;
		bool required;
	} vars[] = {
#define V(n, f, r) { n, offsetof(struct spte_masks, f), r }
		V("shadow_present_mask", present, true), V("shadow_user_mask", user, true),
		V("shadow_x_mask", x, false), V("shadow_nx_mask", nx, true),
		V("shadow_accessed_mask", accessed, true), V("shadow_dirty_mask", dirty, true),
		/* the three below exist from 5.13 (E1); without all of them the
		 * E0 layout's fixed bits apply (see below) */
		V("shadow_host_writable_mask", host_writable, false),
		V("shadow_mmu_writable_mask", mmu_writable, false),
		V("shadow_acc_track_mask", acc_track, true), V("shadow_mmio_value", mmio_value, false),
		V("shadow_mmio_mask", mmio_mask, false), V("shadow_mmio_access_mask", mmio_access, true),
		V("shadow_me_value", me_value, false), V("shadow_me_mask", me_mask, false),
		V("shadow_nonpresent_or_rsvd_mask", nonpresent_or_rsvd, false),
		V("shadow_nonpresent_or_rsvd_lower_gfn_mask", nonpresent_or_rsvd_lower_gfn, false),
#undef V
	};
	memset(m, 0, sizeof(*m));
	int e1 = 0;
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		bool found;
		uint64_t v = kvm_read_global(T, vars[i].name, 8, &found);
		if (!found && vars[i].required)
			return err_new(ERR_NOTFOUND, "kvm.ko global %s not found (kernel without "
				       "KALLSYMS_ALL, or KVM too old)", vars[i].name);
		*(uint64_t *)((char *)m + vars[i].off) = v;
		e1 += found && (vars[i].off == offsetof(struct spte_masks, host_writable) ||
				vars[i].off == offsetof(struct spte_masks, mmu_writable) ||
				vars[i].off == offsetof(struct spte_masks, mmio_mask));
	}
	bool found, found_xs, found_xu;
	if (e1 == 0) {
		/* E0 (before 5.13, no mask variables for these): host-/MMU-writable
		 * are the fixed bits 10/11, no MMU-present bit (present = non-zero,
		 * not MMIO), MMIO = special field 52-53 == 11, generation in bits
		 * 3-11 and 54-62.  shadow_mmio_value there holds the bits ORed
		 * into an MMIO SPTE; the test is the special field. */
		m->host_writable = 1ull << 10;
		m->mmu_writable = 1ull << 11;
		m->mmio_mask = m->mmio_value = 3ull << 52;
		m->era0 = true;
	} else if (e1 != 3) {
		return err_new(ERR_NOTFOUND, "kvm.ko globals shadow_host_writable_mask, "
			       "shadow_mmu_writable_mask and shadow_mmio_mask: only some exist (kernel "
			       "without KALLSYMS_ALL?)");
	}
	/* Execute permission: one mask, or (when kvm.ko has them) EPT's
	 * supervisor- and user-mode execute masks, the split that also moved
	 * KVM's software bits (include/kobj/masks.h). */
	uint64_t xs = kvm_read_global(T, "shadow_xs_mask", 8, &found_xs);
	uint64_t xu = kvm_read_global(T, "shadow_xu_mask", 8, &found_xu);
	kvm_read_global(T, "shadow_x_mask", 8, &found);
	if (found_xs != found_xu || (found_xs && found) || (!found_xs && !found))
		return err_new(ERR_NOTFOUND, "kvm.ko globals: %s", found ? "shadow_x_mask beside "
			       "shadow_xs_mask/shadow_xu_mask" : !found_xs && !found_xu ?
			       "neither shadow_x_mask nor shadow_xs_mask/shadow_xu_mask found" :
			       "only one of shadow_xs_mask and shadow_xu_mask");
	m->split_x = found_xs;
	if (m->split_x) {
		m->x = xs;
		m->xu = xu;
	}
	m->ad_shift = m->split_x ? 60 : 52;
	m->saved_shift = m->split_x ? 52 : 54;
	m->saved_xu_bit = m->split_x ? 62 : 0;
	m->mmio_gen_low_bits = m->era0 ? 9 : m->split_x ? 7 : 8;
	m->mmio_gen_high_shift = m->era0 ? 54 : 52;
	m->ept = m->x != 0;
	m->ad_enabled = m->accessed != 0;
	bool caching = kvm_read_global(T, "enable_mmio_caching", 1, &found) & 1;
	m->mmio_caching = found ? caching : m->mmio_value != 0;
	m->address = T->physical_mask & 0x000ffffffffff000ull & ~m->me_mask;
	/* From 6.10 (detected by the per-VM MMIO value) empty SPTEs hold bit 63
	 * and FROZEN_SPTE carries it too. */
	m->nonpresent = era_bit63 ? 1ull << 63 : 0;
	m->frozen = m->nonpresent | (m->split_x ? 0x1a0 : 0x5a0);
	int lvl = (int)kvm_read_global(T, "max_huge_page_level", 4, &found);
	H->max_huge_page_level = found ? lvl : 3;
	return NULL;
}

static void kvm_vm_read_comm(struct target *T, const struct kvm_layout *L, struct kvm_vm *vm)
{
	if (!L->has_owner || !vm->mm)
		return;
	uint64_t owner;
	if (!dump_peek(T->dump, vm->mm + member_off(&L->mm_owner), &owner, sizeof(owner)) || !owner)
		return; /* best effort: the name is decoration, the pid is the identity */
	char comm[16];
	struct err *e = dump_read_virt(T->dump, owner + member_off(&L->t_comm), comm, sizeof(comm));
	if (e) {
		err_free(e);
		return;
	}
	snprintf(vm->comm, sizeof(vm->comm), "%.16s", comm);
}

struct slot_walk {
	struct target *T;
	const struct kvm_layout *L;
	struct kvm_vm *vm;
	uint64_t node_off;
	int as_id;
};

static struct err *kvm_slot_visit(void *arg, uint64_t node)
{
	struct slot_walk *w = arg;
	const struct kvm_layout *L = w->L;
	struct kvm_vm *vm = w->vm;
	if (vm->nslots >= KVM_MAX_SLOTS)
		return err_new(ERR_CORRUPT, "more than %d memslots", KVM_MAX_SLOTS);
	uint64_t addr = node - w->node_off;
	uint8_t *buf;
	const struct member *keys[] = { &L->s_base_gfn, &L->s_npages, &L->s_dirty_bitmap, &L->s_uaddr,
					&L->s_flags, &L->s_id, &L->s_as_id };
	struct err *e = target_read_obj_stable(w->T, addr, L->slot_size, keys, L->has_as_id ? 7 : 6,
					       (void **)&buf);
	if (e)
		return err_wrap(e, "memslot at 0x%llx", (unsigned long long)addr);
	void *p = array_room(vm->slots, vm->nslots, sizeof(*vm->slots));
	if (!p) {
		free(buf);
		return err_new(ERR_NOMEM, "out of memory");
	}
	vm->slots = p;
	struct kvm_memslot *s = &vm->slots[vm->nslots++];
	s->addr = addr;
	s->base_gfn = member_get(buf, L->slot_size, &L->s_base_gfn);
	s->npages = member_get(buf, L->slot_size, &L->s_npages);
	s->dirty_bitmap = member_get(buf, L->slot_size, &L->s_dirty_bitmap);
	s->userspace_addr = member_get(buf, L->slot_size, &L->s_uaddr);
	s->flags = (uint32_t)member_get(buf, L->slot_size, &L->s_flags);
	s->id = (int16_t)member_get(buf, L->slot_size, &L->s_id);
	s->as_id = L->has_as_id ? (int)member_get(buf, L->slot_size, &L->s_as_id) : w->as_id;
	free(buf);
	if (s->as_id != w->as_id)
		return err_new(ERR_CORRUPT, "memslot at 0x%llx claims address space %d in the set of %d",
			       (unsigned long long)addr, s->as_id, w->as_id);
	/* impossible values (a range, an id) are judged with the whole set,
	 * kvm_slots_sane: the walk goes on to the other slots */
	return NULL;
}

/* KVM_MEM_MAX_NR_PAGES: KVM refuses a larger memslot; memslot ids are a
 * short below KVM_MEM_SLOTS_NUM (SHRT_MAX). */
#define KVM_SLOT_MAX_PAGES ((1ull << 31) - 1)
#define KVM_SLOT_MAX_ID 32767

struct slot_key { int as_id; uint64_t base, end; size_t i; };

static int slot_key_cmp(const void *a, const void *b)
{
	const struct slot_key *x = a, *y = b;
	if (x->as_id != y->as_id)
		return x->as_id < y->as_id ? -1 : 1;
	return x->base < y->base ? -1 : x->base > y->base;
}

/* Memslots KVM cannot have made (an empty or oversized range, one that
 * wraps, a negative or too large id, two slots of one address space that
 * overlap) are dropped, so that nothing reasons on them: the error names
 * the first and how many went (the VM is then incomplete). */
static struct err *kvm_slots_sane(struct kvm_vm *vm)
{
	size_t n = vm->nslots, bad = 0;
	if (!n)
		return NULL;
	struct slot_key *k = calloc(n, sizeof(*k));
	bool *drop = calloc(n, sizeof(*drop));
	if (!k || !drop) {
		free(k);
		free(drop);
		return err_new(ERR_NOMEM, "out of memory");
	}
	char first[256] = "";
	for (size_t i = 0; i < n; i++) {
		const struct kvm_memslot *s = &vm->slots[i];
		const char *why = s->npages == 0 ? "no pages"
				  : s->npages > KVM_SLOT_MAX_PAGES ? "more pages than KVM allows (2^31 - 1)"
				  : s->base_gfn + s->npages < s->base_gfn ? "a range that wraps"
				  : s->id < 0 || s->id >= KVM_SLOT_MAX_ID ? "an impossible id" : NULL;
		if (why && !*first)
			snprintf(first, sizeof(first), "memslot at 0x%llx (id %d, base_gfn 0x%llx, npages "
				 "%llu): %s", (unsigned long long)s->addr, s->id,
				 (unsigned long long)s->base_gfn, (unsigned long long)s->npages, why);
		drop[i] = why != NULL;
		k[i] = (struct slot_key){ s->as_id, s->base_gfn, s->base_gfn + s->npages, i };
	}
	qsort(k, n, sizeof(*k), slot_key_cmp);
	/* overlaps among the plausible ones: each slot against the furthest end so far */
	size_t far = n;
	for (size_t j = 0; j < n; j++) {
		if (drop[k[j].i])
			continue;
		if (far < n && k[far].as_id == k[j].as_id && k[j].base < k[far].end) {
			const struct kvm_memslot *a = &vm->slots[k[far].i], *b = &vm->slots[k[j].i];
			if (!*first)
				snprintf(first, sizeof(first), "memslots %d and %d of address space %d "
					 "overlap (0x%llx+%llu, 0x%llx+%llu)", a->id, b->id, a->as_id,
					 (unsigned long long)a->base_gfn, (unsigned long long)a->npages,
					 (unsigned long long)b->base_gfn, (unsigned long long)b->npages);
			drop[k[far].i] = drop[k[j].i] = true;
		}
		if (far == n || k[far].as_id != k[j].as_id || k[j].end > k[far].end)
			far = j;
	}
	size_t out = 0;
	bad = 0;
	for (size_t i = 0; i < n; i++) {
		if (drop[i])
			bad++;
		else
			vm->slots[out++] = vm->slots[i];
	}
	vm->nslots = out;
	free(k);
	free(drop);
	if (!bad)
		return NULL;
	return err_new(ERR_CORRUPT, "%s; %zu memslot(s) KVM cannot have made left out", first, bad);
}

/* Before 5.17: USED slots inline in memslots[], sorted by base_gfn
 * descending, and id_to_index[id] the position of slot ID.  Neither the
 * count, the order nor the index is trusted: each is checked. */
static struct err *kvm_vm_slots_array(struct target *T, const struct kvm_layout *L, uint64_t ms,
				      const uint8_t *buf, struct kvm_vm *vm, int as)
{
	int64_t used = (int32_t)member_get(buf, L->memslots_size, &L->ms_used_slots);
	uint64_t max = L->has_id_to_index ? L->id_to_index_n : KVM_MAX_SLOTS;
	if (used < 0 || (uint64_t)used > max)
		return err_new(ERR_CORRUPT, "kvm_memslots at 0x%llx: used_slots %lld (at most %llu)",
			       (unsigned long long)ms, (long long)used, (unsigned long long)max);
	struct slot_walk w = { T, L, vm, 0, as };
	size_t first = vm->nslots;
	for (int64_t i = 0; i < used; i++) {
		uint64_t addr = ms + member_off(&L->ms_slots) + (uint64_t)i * L->slot_size;
		struct err *e = kvm_slot_visit(&w, addr);
		if (e)
			return err_wrap(e, "memslots[%lld]", (long long)i);
		const struct kvm_memslot *s = &vm->slots[vm->nslots - 1];
		if (vm->nslots - 1 > first && s[-1].base_gfn < s->base_gfn + s->npages)
			return err_new(ERR_CORRUPT, "kvm_memslots at 0x%llx: memslots[%lld] (base_gfn 0x%llx) "
				       "is not below memslots[%lld] (base_gfn 0x%llx): not sorted by gfn, "
				       "or overlapping", (unsigned long long)ms, (long long)i,
				       (unsigned long long)s->base_gfn, (long long)i - 1,
				       (unsigned long long)s[-1].base_gfn);
		if (!L->has_id_to_index)
			continue;
		int16_t idx;
		if (s->id < 0 || (uint32_t)s->id >= L->id_to_index_n)
			return err_new(ERR_CORRUPT, "memslot at 0x%llx has id %d (id_to_index has %u)",
				       (unsigned long long)addr, s->id, L->id_to_index_n);
		struct err *ie = dump_read_virt(T->dump, ms + member_off(&L->ms_id_to_index) +
						2 * (uint64_t)s->id, &idx, 2);
		if (ie)
			return err_wrap(ie, "kvm_memslots at 0x%llx id_to_index", (unsigned long long)ms);
		if (idx != i)
			return err_new(ERR_CORRUPT, "kvm_memslots at 0x%llx: id_to_index[%d] is %d, but the "
				       "slot is memslots[%lld]", (unsigned long long)ms, s->id, idx, (long long)i);
	}
	/* listed by gfn ascending, as the later gfn tree gives them */
	for (size_t lo = first, hi = vm->nslots; hi > lo + 1; lo++, hi--) {
		struct kvm_memslot t = vm->slots[lo];
		vm->slots[lo] = vm->slots[hi - 1];
		vm->slots[hi - 1] = t;
	}
	return NULL;
}

static struct err *kvm_vm_slots(struct target *T, const struct kvm_layout *L, const uint8_t *kvm,
				struct kvm_vm *vm)
{
	for (uint32_t as = 0; as < L->nas; as++) {
		uint64_t ms;
		memcpy(&ms, kvm + member_off(&L->memslots_arr) + sizeof(ms) * as, sizeof(ms));
		if (!ms)
			continue;
		uint8_t *buf;
		const struct member *keys[] = { L->slots_are_array ? &L->ms_used_slots : &L->ms_node_idx,
						&L->ms_gfn_tree, &L->ms_generation };
		const struct member *akeys[] = { &L->ms_used_slots, &L->ms_generation };
		struct err *e = L->slots_are_array
			? target_read_obj_stable(T, ms, L->memslots_size, akeys, L->has_ms_generation ? 2 : 1,
						 (void **)&buf)
			: target_read_obj_stable(T, ms, L->memslots_size, keys, L->has_ms_generation ? 3 : 2,
						 (void **)&buf);
		if (e)
			return err_wrap(e, "kvm_memslots of address space %u", as);
		vm->memslots_ptr[as] = ms;
		vm->memslots_gen[as] = L->has_ms_generation ? member_get(buf, L->memslots_size,
									 &L->ms_generation) : 0;
		if (L->slots_are_array) {
			e = kvm_vm_slots_array(T, L, ms, buf, vm, (int)as);
			free(buf);
			if (e)
				return err_wrap(e, "memslots of address space %u", as);
			continue;
		}
		uint64_t node_idx = member_get(buf, L->memslots_size, &L->ms_node_idx);
		uint64_t root;
		memcpy(&root, buf + member_off(&L->ms_gfn_tree), 8);
		free(buf);
		if (node_idx > 1)
			return err_new(ERR_CORRUPT, "kvm_memslots at 0x%llx: node_idx %llu",
				       (unsigned long long)ms, (unsigned long long)node_idx);
		struct slot_walk w = { T, L, vm, member_off(&L->s_gfn_node) + node_idx * L->gfn_node_stride,
				       (int)as };
		if ((e = klist_rbtree_inorder(T, root, KVM_MAX_SLOTS, kvm_slot_visit, &w)))
			return err_wrap(e, "memslots of address space %u", as);
	}
	return kvm_slots_sane(vm);
}

struct root_walk {
	struct target *T;
	const struct kvm_layout *L;
	struct kvm_vm *vm;
	struct notes *notes;
};

static struct err *kvm_root_visit(void *arg, uint64_t link)
{
	struct root_walk *w = arg;
	const struct kvm_layout *L = w->L;
	struct kvm_vm *vm = w->vm;
	uint64_t addr = link - member_off(&L->sp_link);
	uint8_t *buf;
	const struct member *keys[] = { &L->sp_spt, &L->sp_gfn, &L->sp_role, &L->sp_refcount,
					&L->sp_sched_zap };
	struct err *e = target_read_obj_stable(w->T, addr, L->sp_size, keys, L->has_sched_zap ? 5 : 4,
					       (void **)&buf);
	if (e)
		return err_wrap(e, "kvm_mmu_page at 0x%llx", (unsigned long long)addr);
	void *p = array_room(vm->roots, vm->nroots, sizeof(*vm->roots));
	if (!p) {
		free(buf);
		return err_new(ERR_NOMEM, "out of memory");
	}
	vm->roots = p;
	struct kvm_root *r = &vm->roots[vm->nroots++];
	memset(r, 0, sizeof(*r));
	r->sp = addr;
	r->spt = member_get(buf, L->sp_size, &L->sp_spt);
	r->gfn = member_get(buf, L->sp_size, &L->sp_gfn);
	r->role = (uint32_t)member_get(buf, L->sp_size, &L->sp_role);
	r->level = (int)member_get(buf, L->sp_size, &L->sp_level);
	r->smm = (int)member_get(buf, L->sp_size, &L->sp_smm);
	r->invalid = member_get(buf, L->sp_size, &L->sp_invalid) ||
		     (L->has_sched_zap && member_get(buf, L->sp_size, &L->sp_sched_zap));
	r->guest_mode = member_get(buf, L->sp_size, &L->sp_guest_mode);
	r->ad_disabled = member_get(buf, L->sp_size, &L->sp_ad_disabled);
	r->direct = L->has_direct ? member_get(buf, L->sp_size, &L->sp_direct) : true;
	r->refcount = (int32_t)member_get(buf, L->sp_size, &L->sp_refcount);
	r->held_vcpu = -1;
	r->held_mmu = MMU_NONE;
	r->held_prev = -1;
	free(buf);
	if (r->level < 2 || r->level > 5)
		return err_new(ERR_CORRUPT, "TDP MMU root 0x%llx has level %d", (unsigned long long)addr,
			       r->level);
	if ((e = dump_vtop(w->T->dump, r->spt, &r->spt_pa)))
		return err_wrap(e, "TDP MMU root 0x%llx table", (unsigned long long)addr);
	/* A listed root holds a reference; 0 only while the last put is
	 * between its decrement and list_del_rcu (its tables about to be
	 * freed), below 0 never.  Walked, but its SPTEs are not vouched for. */
	if (r->refcount <= 0) {
		notes_add(w->notes, "VM %d: TDP MMU root 0x%llx on tdp_mmu_roots has refcount %lld: %s",
			  vm->pid, (unsigned long long)addr, (long long)r->refcount,
			  r->refcount ? "impossible (damaged kvm_mmu_page)"
				      : "being freed, its tables may already be reused");
		vm->incomplete = true;
	}
	return NULL;
}

static struct err *kvm_vm_vcpus(struct target *T, const struct kvm_layout *L, const uint8_t *kvm,
				struct kvm_vm *vm)
{
	uint64_t head = 0;
	/* xarray: spinlock, flags, then xa_head; read it through its type. */
	struct member xa_head;
	struct type_ref xa = L->vcpu_array.type;
	if (!L->vcpus_is_array && !types_member(xa, "xa_head", &xa_head))
		return err_new(ERR_LAYOUT, "struct xarray has no xa_head");
	if (!L->vcpus_is_array)
		memcpy(&head, kvm + member_off(&L->vcpu_array) + member_off(&xa_head), 8);
	int n = vm->online_vcpus;
	if (n < 0 || n > KVM_MAX_VCPUS_READ || (L->vcpus_is_array && (uint32_t)n > L->nvcpus_max))
		return err_new(ERR_CORRUPT, "online_vcpus is %d%s", n,
			       L->vcpus_is_array && n > 0 ? " (more than the vcpus[] array holds)" : "");
	if (n == 0)
		return NULL;
	vm->vcpus = calloc((size_t)n, sizeof(*vm->vcpus));
	if (!vm->vcpus)
		return err_new(ERR_NOMEM, "out of memory");
	int missing = 0;
	for (int i = 0; i < n; i++) {
		uint64_t vcpu = 0;
		struct err *e = NULL;
		if (L->vcpus_is_array)
			memcpy(&vcpu, kvm + member_off(&L->vcpu_array) + 8 * (size_t)i, 8);
		else
			e = klist_xa_load(T, head, (uint64_t)i, &vcpu);
		if (e)
			return err_wrap(e, "vcpu_array[%d]", i);
		/* KVM stores the vCPU before it counts it (online_vcpus): below the
		 * count an empty slot is damage, or a VM being destroyed; either
		 * way a vCPU the count says exists was not analysed */
		if (!vcpu) {
			missing++;
			continue;
		}
		uint8_t *buf;
		/* mode flips on every guest entry and exit: shown, not compared */
		const struct member *keys[] = { &L->v_id, &L->v_idx, &L->v_mmu };
		if ((e = target_read_obj_stable(T, vcpu, L->vcpu_size, keys, 3, (void **)&buf)))
			return err_wrap(e, "vcpu %d at 0x%llx", i, (unsigned long long)vcpu);
		struct kvm_vcpu_info *v = &vm->vcpus[vm->nvcpus++];
		v->addr = vcpu;
		v->vcpu_id = (int)member_get(buf, L->vcpu_size, &L->v_id);
		v->idx = (int)member_get(buf, L->vcpu_size, &L->v_idx);
		v->mode = (int)member_get(buf, L->vcpu_size, &L->v_mode);
		uint64_t mmu = member_get(buf, L->vcpu_size, &L->v_mmu);
		free(buf);
		v->mmu = mmu;
		v->root_hpa = UINT64_MAX;
		if (mmu && (e = dump_read_u64(T->dump, mmu + member_off(&L->m_root_hpa), &v->root_hpa)))
			return err_wrap(e, "vcpu %d mmu", i);
	}
	if (missing)
		return err_new(ERR_CORRUPT, "online_vcpus is %d, but %d of them %s not on %s", n, missing,
			       missing > 1 ? "are" : "is", L->vcpus_is_array ? "vcpus[]" : "vcpu_array");
	return NULL;
}

/* The VM owns its shadow pages (kvm_shadow_load filled them). */
static void kvm_vm_shadow_free(struct kvm_vm *vm)
{
	free(vm->shadow.pages);
	memset(&vm->shadow, 0, sizeof(vm->shadow));
}

static void kvm_vm_parts_free(struct kvm_vm *vm)
{
	free(vm->slots);
	free(vm->roots);
	free(vm->vcpus);
	kvm_vm_shadow_free(vm);
	vm->slots = NULL;
	vm->roots = NULL;
	vm->vcpus = NULL;
	vm->nslots = vm->nroots = vm->nvcpus = 0;
	memset(vm->memslots_ptr, 0, sizeof(vm->memslots_ptr));
	memset(vm->memslots_gen, 0, sizeof(vm->memslots_gen));
}

static bool kvm_vm_changed_L(struct target *T, const struct kvm_layout *L, const struct kvm_vm *vm,
			     char *what, size_t len);

/* The struct kvm and what hangs off it.  On a live host the parts are read
 * again (bounded) when one of them failed or changed while being read. */
static struct err *kvm_vm_load(struct target *T, const struct kvm_layout *L, struct kvm_host *H,
			       uint64_t addr, struct kvm_vm *vm)
{
	memset(vm, 0, sizeof(*vm));
	vm->addr = addr;
	bool live = dump_is_live(T->dump);
	const struct member *keys[] = { &L->pid, &L->mm_ptr, &L->online_vcpus, &L->ring_size,
					&L->manual_protect };
	for (int tries = 1;; tries++) {
		uint8_t *kvm;
		struct err *e = target_read_obj_stable(T, addr, L->kvm_size, keys,
						       L->has_ring ? (L->has_manual ? 5 : 4) : 3, (void **)&kvm);
		if (e)
			return e;
		vm->pid = (int)member_get(kvm, L->kvm_size, &L->pid);
		vm->mm = member_get(kvm, L->kvm_size, &L->mm_ptr);
		vm->online_vcpus = (int)member_get(kvm, L->kvm_size, &L->online_vcpus);
		vm->manual_dirty_log_protect = L->has_manual ? member_get(kvm, L->kvm_size, &L->manual_protect) : 0;
		vm->dirty_ring_size = L->has_ring ? (uint32_t)member_get(kvm, L->kvm_size, &L->ring_size) : 0;
		vm->tdp_mmu = L->has_tdp_mmu_enabled ? (int)member_get(kvm, L->kvm_size, &L->tdp_mmu_enabled)
						     : H->tdp_mmu_enabled;
		if (tries == 1)
			kvm_vm_read_comm(T, L, vm);
		/* Each part of a VM can fail alone; what fails is noted, the rest stays. */
		struct root_walk rw = { T, L, vm, &H->notes };
		struct err *es = kvm_vm_slots(T, L, kvm, vm);
		/* With the TDP MMU off the kernel never initialises the list. */
		uint64_t first = 0;
		if (L->has_tdp_roots)
			memcpy(&first, kvm + member_off(&L->tdp_mmu_roots), 8);
		struct err *er = !L->has_tdp_roots || (vm->tdp_mmu == 0 && !first) ? NULL :
			klist_walk(T, addr + member_off(&L->tdp_mmu_roots), KVM_MAX_ROOTS,
				   kvm_root_visit, &rw);
		struct err *ev = kvm_vm_vcpus(T, L, kvm, vm);
		free(kvm);
		char why[256] = "";
		bool changed = live && (es || er || ev || kvm_vm_changed_L(T, L, vm, why, sizeof(why)));
		if (changed && tries < DUMP_LIVE_TRIES) {
			if (tries == 1)
				T->live.objects_retried++;
			err_free(es);
			err_free(er);
			err_free(ev);
			kvm_vm_parts_free(vm);
			continue;
		}
		if (changed && !es && !er && !ev) {
			T->live.objects_changed++;
			notes_add(&H->notes, "VM %d (kvm 0x%llx): changed under us on each of %d reads (%s)",
				  vm->pid, (unsigned long long)addr, DUMP_LIVE_TRIES, why);
			vm->incomplete = true;
		}
		vm->slots_incomplete = es != NULL;
		const char *part[] = { "memslots", "TDP MMU roots", "vCPUs" };
		struct err *pe[] = { es, er, ev };
		for (int i = 0; i < 3; i++)
			if (pe[i]) {
				notes_add(&H->notes, "VM %d (kvm 0x%llx): %s: %s%s", vm->pid,
					  (unsigned long long)addr, part[i], pe[i]->msg,
					  live ? " (live host: on every bounded re-read)" : "");
				err_free(pe[i]);
				vm->incomplete = true;
			}
		return NULL;
	}
}

struct vm_walk {
	struct target *T;
	const struct kvm_layout *L;
	struct kvm_host *H;
};

static struct err *kvm_vm_visit(void *arg, uint64_t link)
{
	struct vm_walk *w = arg;
	struct kvm_host *H = w->H;
	if (H->nvms >= KVM_MAX_VMS)
		return err_new(ERR_CORRUPT, "more than %d VMs", KVM_MAX_VMS);
	void *p = array_room(H->vms, H->nvms, sizeof(*H->vms));
	if (!p)
		return err_new(ERR_NOMEM, "out of memory");
	H->vms = p;
	uint64_t addr = link - member_off(&w->L->vm_list);
	struct kvm_vm *vm = &H->vms[H->nvms];
	struct err *e = kvm_vm_load(w->T, w->L, H, addr, vm);
	if (e) {
		free(vm->slots); /* what was read before the failure */
		free(vm->roots);
		free(vm->vcpus);
		/* A dump's unreadable struct kvm loses that VM, not the others
		 * (a live host walks the list again instead). */
		if (e->kind != ERR_NOMEM && !dump_is_live(w->T->dump)) {
			notes_add(&H->notes, "struct kvm at 0x%llx: VM skipped: %s",
				  (unsigned long long)addr, e->msg);
			err_free(e);
			return NULL;
		}
		return err_wrap(e, "struct kvm at 0x%llx", (unsigned long long)addr);
	}
	/* The per-VM MMIO value (6.10+) replaces the global one. */
	H->nvms++;
	return NULL;
}

struct vm_tail {
	const struct kvm_host *H;
	uint64_t off;		/* of vm_list in struct kvm */
	uint64_t *links;
	size_t n;
};

static struct err *vm_tail_add(void *arg, uint64_t link)
{
	struct vm_tail *t = arg;
	for (size_t i = 0; i < t->H->nvms; i++)
		if (t->H->vms[i].addr + t->off == link)
			return KLIST_STOP; /* the forward walk got this far */
	void *p = array_room(t->links, t->n, sizeof(*t->links));
	if (!p)
		return err_new(ERR_NOMEM, "out of memory");
	t->links = p;
	t->links[t->n++] = link;
	return NULL;
}

/* vm_list broken at an unreadable entry (BROKE): the VMs after it, reached
 * from the list's tail along the prev pointers, in list order; the break is
 * noted (a VM there is lost).  Errors of the tail walk end it, noted. */
static struct err *kvm_vm_list_tail(struct target *T, struct vm_walk *w, uint64_t head,
				    const struct err *broke)
{
	struct vm_tail t = { w->H, member_off(&w->L->vm_list), NULL, 0 };
	size_t before = w->H->nvms;
	struct err *e = klist_walk_back(T, head, KVM_MAX_VMS, vm_tail_add, &t);
	if (e && e->kind == ERR_NOMEM) {
		free(t.links);
		return e;
	}
	for (size_t i = t.n; i-- > 0;) {
		struct err *ve = kvm_vm_visit(w, t.links[i]);
		if (ve) {
			free(t.links);
			err_free(e);
			return ve;
		}
	}
	free(t.links);
	bool same = e && !strcmp(e->msg, broke->msg); /* the tail walk stops at the same entry */
	notes_add(&w->H->notes, "vm_list: %s; %zu VM(s) before the break, %zu reached from the "
		  "list's tail%s%s", broke->msg, before, w->H->nvms - before,
		  e && !same ? ", which also breaks: " : "", e && !same ? e->msg : "");
	err_free(e);
	return NULL;
}

struct err *kvm_vms_load(struct target *T, struct kvm_host *H)
{
	memset(H, 0, sizeof(*H));
	H->tdp_enabled = H->tdp_mmu_enabled = -1;
	/* what the dump file itself lacks (a truncated file) */
	const struct notes *dn = dump_notes(T->dump);
	for (size_t i = 0; i < dn->n; i++)
		notes_add(&H->notes, "%s", dn->msg[i]);
	if (!target_module(T, "kvm"))
		return err_new(ERR_NOTFOUND, "the kvm module is not loaded in this kernel: no VMs to analyse");
	H->vendor = target_module(T, "kvm_amd") ? "kvm_amd" : target_module(T, "kvm_intel") ? "kvm_intel" : NULL;
	struct kvm_layout *L = &H->layout;
	struct err *e = kvm_layout_load(T, L);
	if (e && T->recovered.ran && !T->recovered.used)
		return err_wrap(e, "%s, and offsets from kvm.ko's code were refused (%s); give "
				"--module kvm.ko", T->recovered.why, T->recovered.result);
	if (e)
		return e;
	H->address_spaces = (int)L->nas;
	if (!L->has_tdp_roots)
		notes_add(&H->notes, "this kernel has no TDP MMU (struct kvm_arch has no tdp_mmu_roots, "
			  "before 5.10): no roots or SPTEs to show; VMs, memslots and vCPUs are shown");
	/* Offsets recovered from code without some members: what they feed
	 * (a dirty-log mode, a check) is missing, so the analysis is incomplete. */
	if (T->recovered.used && *T->recovered.missing)
		notes_add(&H->notes, "offsets recovered from code lack %s: what needs them is not "
			  "analysed", T->recovered.missing);
	if ((e = kvm_masks_load(T, H, L->has_mmio_value)))
		return e;
	bool found;
	uint64_t v = kvm_read_global(T, "tdp_enabled", 1, &found);
	if (found)
		H->tdp_enabled = (int)(v & 1);
	v = kvm_read_global(T, "tdp_mmu_enabled", 1, &found);
	if (found)
		H->tdp_mmu_enabled = (int)(v & 1);
	uint64_t head;
	if (!target_symbol(T, "kvm", "vm_list", &head) && !target_symbol(T, "vmlinux", "vm_list", &head))
		return err_new(ERR_NOTFOUND, "symbol vm_list not found in kvm or vmlinux");
	struct vm_walk w = { T, L, H };
	/* A live vm_list gains and loses VMs while it is walked: walk again
	 * (bounded); one that never holds still is noted, not fatal. */
	for (int tries = 1; (e = klist_walk(T, head, KVM_MAX_VMS, kvm_vm_visit, &w)); tries++) {
		/* an unreadable link (not a corrupt one): the rest from the tail */
		if (!dump_is_live(T->dump) && (e->kind == ERR_FILTERED || e->kind == ERR_READ)) {
			struct err *te = kvm_vm_list_tail(T, &w, head, e);
			err_free(e);
			if (!te)
				break;
			e = te;
		}
		if (!dump_is_live(T->dump)) {
			kvm_host_fini(H); /* a fatal error leaves nothing to free */
			return err_wrap(e, "vm_list");
		}
		if (tries == DUMP_LIVE_TRIES) {
			T->live.objects_changed++;
			notes_add(&H->notes, "vm_list: changed under us on each of %d walks, VMs may be "
				  "missing: %s", DUMP_LIVE_TRIES, e->msg);
			err_free(e);
			break;
		}
		if (tries == 1)
			T->live.objects_retried++;
		err_free(e);
		for (size_t i = 0; i < H->nvms; i++)
			kvm_vm_parts_free(&H->vms[i]);
		H->nvms = 0;
		notes_fini(&H->notes);
	}
	if (L->has_mmio_value)
		for (size_t i = 0; i < H->nvms; i++) {
			uint64_t mv;
			if (dump_peek(T->dump, H->vms[i].addr + member_off(&L->mmio_value), &mv, sizeof(mv))) {
				H->masks.mmio_value = mv; /* identical for ordinary VMs */
				break;
			}
		}
	return NULL;
}

void kvm_host_fini(struct kvm_host *H)
{
	for (size_t i = 0; i < H->nvms; i++) {
		free(H->vms[i].slots);
		free(H->vms[i].roots);
		free(H->vms[i].vcpus);
		kvm_vm_shadow_free(&H->vms[i]);
	}
	free(H->vms);
	notes_fini(&H->notes);
	memset(H, 0, sizeof(*H));
}

struct root_list {
	struct target *T;
	const struct kvm_layout *L;
	const struct kvm_vm *vm;
	size_t n;
	bool differs;
};

static struct err *kvm_root_compare(void *arg, uint64_t link)
{
	struct root_list *c = arg;
	uint64_t sp = link - member_off(&c->L->sp_link);
	uint32_t role = 0;
	if (c->n >= c->vm->nroots || c->vm->roots[c->n].sp != sp ||
	    !dump_peek(c->T->dump, sp + member_off(&c->L->sp_role), &role, sizeof(role)) ||
	    role != c->vm->roots[c->n].role)
		c->differs = true;
	c->n++;
	return c->differs ? KLIST_STOP : NULL;
}

static bool kvm_vm_changed_L(struct target *T, const struct kvm_layout *L, const struct kvm_vm *vm,
			     char *what, size_t len)
{
	if (!dump_is_live(T->dump))
		return false;
	for (uint32_t as = 0; as < L->nas; as++) {
		uint64_t ms = 0, gen = 0;
		if (!dump_peek(T->dump, vm->addr + member_off(&L->memslots_arr) + 8 * as, &ms, 8) ||
		    ms != vm->memslots_ptr[as] ||
		    (ms && L->has_ms_generation &&
		     (!dump_peek(T->dump, ms + member_off(&L->ms_generation), &gen, 8) ||
		      gen != vm->memslots_gen[as]))) {
			snprintf(what, len, "memslots of address space %u: set 0x%llx generation %llu, now "
				 "0x%llx generation %llu", as, (unsigned long long)vm->memslots_ptr[as],
				 (unsigned long long)vm->memslots_gen[as], (unsigned long long)ms,
				 (unsigned long long)gen);
			return true;
		}
	}
	struct root_list c = { T, L, vm, 0, false };
	uint64_t first = 0;
	struct err *e = !L->has_tdp_roots || (vm->tdp_mmu == 0 &&
		dump_peek(T->dump, vm->addr + member_off(&L->tdp_mmu_roots), &first, 8) && !first) ? NULL :
		klist_walk(T, vm->addr + member_off(&L->tdp_mmu_roots), KVM_MAX_ROOTS,
				   kvm_root_compare, &c);
	err_free(e);
	size_t ntdp = 0;
	for (size_t i = 0; i < vm->nroots; i++)
		ntdp += vm->roots[i].mmu == KVM_MMU_TDP;
	if (e || c.differs || c.n != ntdp) {
		snprintf(what, len, "TDP MMU roots: %zu read, the list now differs", vm->nroots);
		return true;
	}
	for (size_t i = 0; i < vm->nvcpus; i++) {
		const struct kvm_vcpu_info *v = &vm->vcpus[i];
		uint64_t hpa;
		if (v->mmu && (!dump_peek(T->dump, v->mmu + member_off(&L->m_root_hpa), &hpa, 8) ||
			       hpa != v->root_hpa)) {
			snprintf(what, len, "vCPU %d root 0x%llx changed", v->idx,
				 (unsigned long long)v->root_hpa);
			return true;
		}
	}
	return false;
}

bool kvm_vm_changed(struct target *T, const struct kvm_host *H, const struct kvm_vm *vm, char *what,
		    size_t len)
{
	return kvm_vm_changed_L(T, &H->layout, vm, what, len);
}

const struct kvm_memslot *kvm_vm_slot_for(const struct kvm_vm *vm, int as_id, uint64_t gfn)
{
	for (size_t i = 0; i < vm->nslots; i++) {
		const struct kvm_memslot *s = &vm->slots[i];
		if (s->as_id == as_id && gfn >= s->base_gfn && gfn - s->base_gfn < s->npages)
			return s;
	}
	return NULL;
}

struct err *kvm_slot_bitmap(struct target *T, const struct kvm_memslot *s, uint64_t **words,
			    size_t *nwords)
{
	*words = NULL;
	*nwords = 0;
	if (!s->dirty_bitmap)
		return NULL;
	size_t n = (size_t)((s->npages + 63) / 64);
	/* A plain read even on a live host: logging changes the bitmap all the
	 * time, and the checks re-read the words of a finding before reporting. */
	struct err *e = target_read_obj(T, s->dirty_bitmap, n * 8, (void **)words);
	if (e)
		return err_wrap(e, "dirty bitmap of slot %d", s->id);
	*nwords = n;
	return NULL;
}
