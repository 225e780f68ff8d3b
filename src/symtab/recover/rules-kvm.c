/* Rules on kvm.ko's code: each reads the members one known function
 * reveals.  Registered in rec_kvm_rules (order matters where a rule uses an
 * earlier result). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rec.h"

/* ---- rules: one function each -------------------------------------------- */

/* list_for_each_entry(kvm, &vm_list, vm_list): load vm_list.next, then
 * lea kvm, [next - offsetof(struct kvm, vm_list)]. */
static void rule_vm_list(struct rec *r, const struct rfn *f)
{
	for (size_t i = 0; i < f->n; i++) {
		const char *s = rec_rip_name(r, &f->in[i]);
		if (!s || strcmp(s, "vm_list") || !is_op(&f->in[i], X86_INS_MOV, 2, X86_OP_REG, X86_OP_MEM))
			continue;
		int d = op_fam(&f->in[i], 0);
		for (size_t k = i + 1; k < f->n && k < i + 8; k++) {
			const cs_x86_op *m = rec_mem(&f->in[k], NULL);
			if (f->in[k].id == X86_INS_LEA && mem_plain(m) && reg_fam(m->mem.base) == d &&
			    m->mem.disp < 0) {
				rec_put(r, "kvm.vm_list", -m->mem.disp, 0, 0, 16, K_LIST, f->name);
				return;
			}
		}
	}
}

/* if (kvm->mm != current->mm): cmp [kvm + X], reg loaded from current. */
static void rule_mm(struct rec *r, const struct rfn *f)
{
	for (size_t i = 0; i < f->n; i++) {
		const cs_insn *in = &f->in[i];
		if (!is_op(in, X86_INS_CMP, 2, X86_OP_MEM, X86_OP_REG) || op_size(in, 0) != 8 ||
		    !mem_plain(rec_mem(in, NULL)))
			continue;
		long j = rec_def(r, f, i, op_fam(in, 1));
		if (j < 0 || !is_op(&f->in[j], X86_INS_MOV, 2, X86_OP_REG, X86_OP_MEM))
			continue;
		const cs_x86_op *m = rec_mem(&f->in[j], NULL);
		if (!mem_plain(m))
			continue;
		long c = rec_def(r, f, (size_t)j, reg_fam(m->mem.base));
		const cs_x86_op *cm = c >= 0 ? rec_mem(&f->in[c], NULL) : NULL;
		if (!cm || cm->mem.segment != X86_REG_GS || f->in[c].id != X86_INS_MOV)
			continue; /* not current_task */
		rec_put(r, "kvm.mm", rec_mem(in, NULL)->mem.disp, 0, 0, 8, K_PTR, f->name);
		return;
	}
}

/* kvm->userspace_pid = task_pid_nr(current) and add_uevent_var("PID=%d",
 * kvm->userspace_pid): the one dword both stored and loaded. */
static void rule_userspace_pid(struct rec *r, const struct rfn *f)
{
	int64_t found = -1;
	for (size_t i = 0; i < f->n; i++) {
		const cs_insn *in = &f->in[i];
		if (!is_op(in, X86_INS_MOV, 2, X86_OP_MEM, X86_OP_REG) || op_size(in, 0) != 4)
			continue;
		const cs_x86_op *m = rec_mem(in, NULL);
		if (!mem_plain(m) || m->mem.disp < 0x40)
			continue;
		for (size_t k = 0; k < f->n; k++) {
			const cs_x86_op *l = rec_mem(&f->in[k], NULL);
			if (is_op(&f->in[k], X86_INS_MOV, 2, X86_OP_REG, X86_OP_MEM) &&
			    op_size(&f->in[k], 0) == 4 && mem_plain(l) && l->mem.disp == m->mem.disp) {
				if (found >= 0 && found != m->mem.disp)
					return; /* ambiguous */
				found = m->mem.disp;
			}
		}
	}
	if (found >= 0)
		rec_put(r, "kvm.userspace_pid", found, 0, 0, 4, K_SINT, f->name);
}

/* kvm_for_each_vcpu: xa_find(&kvm->vcpu_array, &i, online_vcpus - 1, ...). */
static void rule_vcpu_array(struct rec *r, const struct rfn *f)
{
	for (size_t i = 0; i < f->n; i++) {
		if (!callee_is(r, &f->in[i], "xa_find"))
			continue;
		struct origin xa = rec_origin(r, f, i, 7);
		int fam = 2;
		size_t at = i;
		for (int depth = 0; depth < 6; depth++) {
			long j = rec_def(r, f, at, fam);
			if (j < 0)
				break;
			const cs_insn *d = &f->in[j];
			if ((d->id == X86_INS_MOVSXD || d->id == X86_INS_MOV) &&
			    is_op(d, d->id, 2, X86_OP_REG, X86_OP_REG)) {
				fam = op_fam(d, 1);
				at = (size_t)j;
				continue;
			}
			if ((d->id == X86_INS_SUB || d->id == X86_INS_ADD || d->id == X86_INS_DEC) &&
			    op_fam(d, 0) == fam) {
				at = (size_t)j;
				continue;
			}
			const cs_x86_op *m = rec_mem(d, NULL);
			if (d->id == X86_INS_MOV && op_size(d, 0) == 4 && mem_plain(m)) {
				struct origin kv = rec_origin(r, f, (size_t)j, reg_fam(m->mem.base));
				/* both from the same struct kvm pointer */
				if (kv.kind != O_NONE && kv.kind == xa.kind && kv.arg == xa.arg &&
				    kv.insn == xa.insn) {
					rec_put(r, "kvm.vcpu_array", xa.off, 0, 0, 16, K_XARRAY, f->name);
					rec_put(r, "kvm.online_vcpus", kv.off + m->mem.disp, 0, 0, 4, K_SINT,
						f->name);
				}
			}
			break;
		}
		return;
	}
}

/* kvm_get_vcpu_by_id: vcpu = xa_load(&kvm->vcpu_array, i); if (vcpu->vcpu_id
 * == id) ...; kvm_vm_ioctl_create_vcpu: vcpu->vcpu_idx =
 * atomic_read(&kvm->online_vcpus). */
static void rule_vcpu_ids(struct rec *r, const struct rfn *f)
{
	uint64_t online = 0;
	bool have_online = rec_get(r, "kvm.online_vcpus", &online);
	for (size_t i = 0; i < f->n; i++) {
		const cs_insn *in = &f->in[i];
		if (callee_is(r, in, "xa_load") && !rec_find(r, "kvm_vcpu.vcpu_id")) {
			for (size_t k = i + 1; k < f->n && k < i + 6; k++) {
				const cs_insn *c = &f->in[k];
				const cs_x86_op *m = rec_mem(c, NULL);
				if (c->id == X86_INS_CMP && op_size(c, 0) == 4 && mem_plain(m)) {
					struct origin o = rec_origin(r, f, k, reg_fam(m->mem.base));
					if (o.kind == O_INSN && o.insn == (long)i)
						rec_put(r, "kvm_vcpu.vcpu_id", o.off + m->mem.disp, 0, 0, 4,
							K_INT, f->name);
					break;
				}
			}
		}
		const cs_x86_op *m = rec_mem(in, NULL);
		/* the load (7.x: sign-extended, the store a few instructions on) */
		if (have_online && i + 1 < f->n &&
		    ((is_op(in, X86_INS_MOV, 2, X86_OP_REG, X86_OP_MEM) && op_size(in, 0) == 4) ||
		     is_op(in, X86_INS_MOVSXD, 2, X86_OP_REG, X86_OP_MEM)) &&
		    mem_plain(m) && (uint64_t)m->mem.disp == online) {
			for (size_t k = i + 1; k < f->n && k <= i + 4; k++) {
				const cs_insn *s = &f->in[k];
				const cs_x86_op *sm = rec_mem(s, NULL);
				if (is_op(s, X86_INS_MOV, 2, X86_OP_MEM, X86_OP_REG) && op_size(s, 0) == 4 &&
				    op_fam(s, 1) == op_fam(in, 0) && mem_plain(sm) &&
				    reg_fam(sm->mem.base) != reg_fam(m->mem.base)) {
					rec_put(r, "kvm_vcpu.vcpu_idx", sm->mem.disp, 0, 0, 4, K_INT,
						f->name);
					break;
				}
				if (s->detail->x86.op_count && s->detail->x86.operands[0].type == X86_OP_REG &&
				    op_fam(s, 0) == op_fam(in, 0))
					break; /* the value is gone */
			}
		}
	}
}

/* kvm_vcpu_exiting_guest_mode: cmpxchg IN_GUEST_MODE (1) -> EXITING (2),
 * compiled as a compare and a store, or (7.x, kvm_arch_vcpu_should_kick) as
 * a real lock cmpxchg with 1 in EAX and 2 in the source register. */
static void rule_vcpu_mode(struct rec *r, const struct rfn *f)
{
	for (size_t i = 0; i < f->n; i++) {
		int64_t off, off2;
		const cs_insn *in = &f->in[i];
		if (is_op(in, X86_INS_CMPXCHG, 2, X86_OP_MEM, X86_OP_REG) && op_size(in, 0) == 4 &&
		    mem_from_arg(r, f, i, 0, &off)) {
			bool one = false, two = false;
			for (size_t k = i >= 4 ? i - 4 : 0; k < i; k++) {
				const cs_insn *p = &f->in[k];
				if (!is_op(p, X86_INS_MOV, 2, X86_OP_REG, X86_OP_IMM))
					continue;
				one |= op_fam(p, 0) == 0 && op_imm(p, 1) == 1;
				two |= op_fam(p, 0) == op_fam(in, 1) && op_imm(p, 1) == 2;
			}
			if (one && two) {
				rec_put(r, "kvm_vcpu.mode", off, 0, 0, 4, K_INT, f->name);
				return;
			}
		}
		if (!is_op(in, X86_INS_CMP, 2, X86_OP_MEM, X86_OP_IMM) || op_size(in, 0) != 4 ||
		    op_imm(in, 1) != 1 || !mem_from_arg(r, f, i, 0, &off))
			continue;
		for (size_t k = i + 1; k < f->n && k < i + 4; k++)
			if (is_op(&f->in[k], X86_INS_MOV, 2, X86_OP_MEM, X86_OP_IMM) &&
			    op_imm(&f->in[k], 1) == 2 && mem_from_arg(r, f, k, 0, &off2) && off2 == off) {
				rec_put(r, "kvm_vcpu.mode", off, 0, 0, 4, K_INT, f->name);
				return;
			}
	}
}

/* kvm_mmu_load(vcpu) starts from vcpu->arch.mmu, read again and again. */
static void rule_vcpu_mmu(struct rec *r, const struct rfn *f)
{
	int64_t first = -1;
	int uses = 0;
	for (size_t i = 0; i < f->n; i++) {
		int64_t off;
		const cs_insn *in = &f->in[i];
		if (!is_op(in, X86_INS_MOV, 2, X86_OP_REG, X86_OP_MEM) || op_size(in, 0) != 8 ||
		    !mem_from_arg(r, f, i, 0, &off) || off <= 0)
			continue;
		if (first < 0)
			first = off;
		if (off == first)
			uses++;
	}
	if (first > 0 && uses >= 2)
		rec_put(r, "kvm_vcpu.arch.mmu", first, 0, 0, 8, K_PTR, f->name);
}

/* VALID_PAGE(mmu->root.hpa): compared with and reset to INVALID_PAGE. */
static void rule_root_hpa(struct rec *r, const struct rfn *f)
{
	for (size_t i = 0; i < f->n; i++) {
		const cs_insn *in = &f->in[i];
		const cs_x86_op *m = rec_mem(in, NULL);
		if (!is_op(in, X86_INS_CMP, 2, X86_OP_MEM, X86_OP_IMM) || op_size(in, 0) != 8 ||
		    op_imm(in, 1) != -1 || !mem_plain(m))
			continue;
		for (size_t k = 0; k < f->n; k++) {
			const cs_x86_op *s = rec_mem(&f->in[k], NULL);
			if (is_op(&f->in[k], X86_INS_MOV, 2, X86_OP_MEM, X86_OP_IMM) &&
			    op_imm(&f->in[k], 1) == -1 && mem_plain(s) && s->mem.disp == m->mem.disp) {
				rec_put(r, "kvm_mmu.root.hpa", m->mem.disp, 0, 0, 8, K_INT, f->name);
				return;
			}
		}
		return;
	}
}

/* kvm_mmu_init_tdp_mmu: [tdp_mmu_enabled = true;] INIT_LIST_HEAD(&roots)
 * first.  The per-VM flag exists only if the code sets it. */
static void rule_init_tdp_mmu(struct rec *r, const struct rfn *f)
{
	bool list = false;
	for (size_t i = 0; i < f->n; i++) {
		int64_t off;
		const cs_insn *in = &f->in[i];
		if (is_op(in, X86_INS_MOV, 2, X86_OP_MEM, X86_OP_IMM) && op_size(in, 0) == 1 &&
		    op_imm(in, 1) == 1 && mem_from_arg(r, f, i, 0, &off))
			rec_put(r, "kvm.arch.tdp_mmu_enabled", off, 0, 0, 1, K_INT, f->name);
		if (list || in->id != X86_INS_LEA || !mem_from_arg(r, f, i, 0, &off))
			continue;
		int a = op_fam(in, 0), seen = 0;
		for (size_t k = i + 1; k < f->n && k < i + 6; k++) {
			int64_t o2;
			const cs_insn *s = &f->in[k];
			if (is_op(s, X86_INS_MOV, 2, X86_OP_MEM, X86_OP_REG) && op_fam(s, 1) == a &&
			    mem_from_arg(r, f, k, 0, &o2) && (o2 == off || o2 == off + 8))
				seen |= o2 == off ? 1 : 2;
		}
		if (seen == 3) {
			rec_put(r, "kvm.arch.tdp_mmu_roots", off, 0, 0, 16, K_LIST, f->name);
			list = true;
		}
	}
}

/* kvm->arch.shadow_mmio_value = shadow_mmio_value (per-VM MMIO value). */
bool rule_mmio_value(struct rec *r, const struct rfn *f)
{
	for (size_t i = 0; i < f->n; i++) {
		const char *s = rec_rip_name(r, &f->in[i]);
		if (!s || strcmp(s, "shadow_mmio_value") ||
		    !is_op(&f->in[i], X86_INS_MOV, 2, X86_OP_REG, X86_OP_MEM))
			continue;
		for (size_t k = i + 1; k < f->n && k < i + 16; k++) {
			int64_t off;
			const cs_insn *st = &f->in[k];
			if (is_op(st, X86_INS_MOV, 2, X86_OP_MEM, X86_OP_REG) && op_size(st, 0) == 8 &&
			    rec_def(r, f, k, op_fam(st, 1)) == (long)i && mem_from_arg(r, f, k, 0, &off)) {
				rec_put(r, "kvm.arch.shadow_mmio_value", off, 0, 0, 8, K_INT, f->name);
				return true;
			}
		}
	}
	return false;
}

static bool rec_slot_array(struct rec *r, const struct rfn *f, size_t from, long ms);

/* gfn_to_memslot(kvm, gfn): slots = kvm->memslots[array_index_nospec(0,
 * KVM_ADDRESS_SPACE_NUM)]; node = slots->gfn_tree.rb_node; idx =
 * slots->node_idx; slot = container_of(node, struct kvm_memory_slot,
 * gfn_node[idx]). */
static void rule_memslots(struct rec *r, const struct rfn *f)
{
	long ms = -1;
	int64_t nas = 0;
	for (size_t i = 0; i < f->n && ms < 0; i++) {
		const cs_insn *in = &f->in[i];
		int64_t off;
		if (is_op(in, X86_INS_CMP, 2, X86_OP_REG, X86_OP_IMM) && i + 1 < f->n &&
		    f->in[i + 1].id == X86_INS_SBB)
			nas = op_imm(in, 1);
		if (is_op(in, X86_INS_MOV, 2, X86_OP_REG, X86_OP_MEM) && op_size(in, 0) == 8 &&
		    mem_from_arg(r, f, i, 0, &off) && off > 0 && nas >= 1 && nas <= 8) {
			rec_put(r, "kvm.memslots", off, 0, 0, (uint32_t)(8 * nas), K_PTRARRAY, f->name);
			struct recover_item *it = rec_find(r, "kvm.memslots");
			if (it)
				it->count = (uint32_t)nas;
			ms = (long)i;
		}
	}
	if (ms < 0)
		return;
	/* before 5.17: a sorted array, searched by index (no tree to find) */
	if (rec_slot_array(r, f, (size_t)ms + 1, ms))
		return;
	for (size_t k = (size_t)ms + 1; k < f->n; k++) {
		const cs_insn *in = &f->in[k];
		const cs_x86_op *m = rec_mem(in, NULL);
		if (!is_op(in, X86_INS_MOVSXD, 2, X86_OP_REG, X86_OP_MEM) || !mem_plain(m))
			continue;
		struct origin o = rec_origin(r, f, k, reg_fam(m->mem.base));
		if (o.kind != O_INSN || o.insn != ms)
			break;
		rec_put(r, "kvm_memslots.node_idx", o.off + m->mem.disp, 0, 0, 4, K_SINT, f->name);
		/* the tree root is read next to it */
		for (size_t b = k; b-- > (size_t)ms + 1 && b + 4 > k;) {
			const cs_x86_op *g = rec_mem(&f->in[b], NULL);
			if (is_op(&f->in[b], X86_INS_MOV, 2, X86_OP_REG, X86_OP_MEM) && mem_plain(g) &&
			    op_size(&f->in[b], 0) == 8) {
				struct origin go = rec_origin(r, f, b, reg_fam(g->mem.base));
				if (go.kind == O_INSN && go.insn == ms)
					rec_put(r, "kvm_memslots.gfn_tree", go.off + g->mem.disp, 0, 0, 8,
						K_PTR, f->name);
				break;
			}
		}
		/* idx * sizeof(struct rb_node), subtracted from -offsetof(gfn_node) */
		int idx = op_fam(in, 0);
		int64_t mult = 1;
		for (size_t s = k + 1; s < f->n && s < k + 12; s++) {
			const cs_insn *a = &f->in[s];
			const cs_x86_op *am = rec_mem(a, NULL);
			if (a->id == X86_INS_LEA && am && reg_fam(am->mem.base) == idx &&
			    reg_fam(am->mem.index) == idx && op_fam(a, 0) == idx && am->mem.disp == 0)
				mult *= am->mem.scale + 1;
			else if (is_op(a, X86_INS_SHL, 2, X86_OP_REG, X86_OP_IMM) && op_fam(a, 0) == idx &&
				 op_imm(a, 1) < 8)
				mult <<= op_imm(a, 1);
			else if (is_op(a, X86_INS_SUB, 2, X86_OP_REG, X86_OP_REG) && op_fam(a, 1) == idx) {
				long d = rec_def(r, f, s, op_fam(a, 0));
				if (d >= 0 && is_op(&f->in[d], X86_INS_MOV, 2, X86_OP_REG, X86_OP_IMM) &&
				    op_imm(&f->in[d], 1) < 0 && mult >= 16 && mult <= 64) {
					rec_put(r, "kvm_memory_slot.gfn_node", -op_imm(&f->in[d], 1), 0, 0,
						(uint32_t)(2 * mult), K_NODEARRAY, f->name);
					struct recover_item *it = rec_find(r, "kvm_memory_slot.gfn_node");
					if (it) {
						it->count = 2;
						it->stride = (uint32_t)mult;
					}
				}
				break;
			}
		}
		break;
	}
}

/* gfn_to_hva_memslot(slot, gfn): flags checked, then
 * ((gfn - base_gfn) bounded by npages) << PAGE_SHIFT + userspace_addr. */
static void rule_gfn_to_hva(struct rec *r, const struct rfn *f)
{
	for (size_t i = 0; i < f->n; i++) {
		int64_t off;
		const cs_insn *in = &f->in[i];
		if (!rec_mem(in, NULL) || !mem_from_arg(r, f, i, 0, &off))
			continue;
		if (is_op(in, X86_INS_MOV, 2, X86_OP_REG, X86_OP_MEM) && op_size(in, 0) == 4)
			rec_put(r, "kvm_memory_slot.flags", off, 0, 0, 4, K_INT, f->name);
		else if (is_op(in, X86_INS_SUB, 2, X86_OP_REG, X86_OP_MEM) && op_size(in, 0) == 8)
			rec_put(r, "kvm_memory_slot.base_gfn", off, 0, 0, 8, K_INT, f->name);
		else if (is_op(in, X86_INS_CMP, 2, X86_OP_REG, X86_OP_MEM) && op_size(in, 0) == 8)
			rec_put(r, "kvm_memory_slot.npages", off, 0, 0, 8, K_INT, f->name);
		else if (is_op(in, X86_INS_ADD, 2, X86_OP_REG, X86_OP_MEM) && op_size(in, 0) == 8 &&
			 i > 0 && is_op(&f->in[i - 1], X86_INS_SHL, 2, X86_OP_REG, X86_OP_IMM) &&
			 op_imm(&f->in[i - 1], 1) == 12)
			rec_put(r, "kvm_memory_slot.userspace_addr", off, 0, 0, 8, K_INT, f->name);
	}
}

/* mark_page_dirty_in_slot(kvm, memslot, gfn): flags & LOG_DIRTY_PAGES,
 * rel_gfn = gfn - base_gfn, slot = as_id << 16 | id, then either the dirty
 * ring (kvm->dirty_ring_size) or set_bit_le(rel_gfn, dirty_bitmap). */
static void rule_mark_dirty_arg(struct rec *r, const struct rfn *f, int sa);

static void rule_mark_dirty(struct rec *r, const struct rfn *f)
{
	/* mark_page_dirty_in_slot(kvm, memslot, gfn) from 5.11;
	 * (memslot, gfn) before: what is read from argument 0 then */
	size_t before = r->R->nitems;
	rule_mark_dirty_arg(r, f, 1);
	if (r->R->nitems == before && !rec_find(r, "kvm_memory_slot.dirty_bitmap"))
		rule_mark_dirty_arg(r, f, 0);
}

static void rule_mark_dirty_arg(struct rec *r, const struct rfn *f, int sa)
{
	long flags_at = -1;
	for (size_t i = 0; i < f->n; i++) {
		int64_t off;
		const cs_insn *in = &f->in[i];
		if (rec_mem(in, NULL) && mem_from_arg(r, f, i, sa, &off)) {
			if (is_op(in, X86_INS_TEST, 2, X86_OP_MEM, X86_OP_IMM) && op_size(in, 0) == 1 &&
			    op_imm(in, 1) == 1 && flags_at < 0) {
				rec_put(r, "kvm_memory_slot.flags", off, 0, 0, 4, K_INT, f->name);
				flags_at = (long)i;
			} else if (is_op(in, X86_INS_MOVZX, 2, X86_OP_REG, X86_OP_MEM) && op_size(in, 1) == 2) {
				rec_put(r, "kvm_memory_slot.as_id", off, 0, 0, 2, K_INT, f->name);
			} else if (is_op(in, X86_INS_MOVSX, 2, X86_OP_REG, X86_OP_MEM) && op_size(in, 1) == 2) {
				rec_put(r, "kvm_memory_slot.id", off, 0, 0, 2, K_SINT, f->name);
			} else if (is_op(in, X86_INS_SUB, 2, X86_OP_REG, X86_OP_MEM) && op_size(in, 0) == 8) {
				rec_put(r, "kvm_memory_slot.base_gfn", off, 0, 0, 8, K_INT, f->name);
			} else if (is_op(in, X86_INS_MOV, 2, X86_OP_REG, X86_OP_MEM) && op_size(in, 0) == 8) {
				int d = op_fam(in, 0);
				for (size_t k = i + 1; k < f->n && k < i + 6; k++) {
					const cs_x86_op *bm = rec_mem(&f->in[k], NULL);
					if (f->in[k].id == X86_INS_BTS && bm && reg_fam(bm->mem.base) == d &&
					    rec_def(r, f, k, d) == (long)i)
						rec_put(r, "kvm_memory_slot.dirty_bitmap", off, 0, 0, 8, K_PTR,
							f->name);
				}
			}
			continue;
		}
		if (sa == 1 && flags_at >= 0 && !rec_find(r, "kvm.dirty_ring_size") &&
		    is_op(in, X86_INS_MOV, 2, X86_OP_REG, X86_OP_MEM) && op_size(in, 0) == 4 &&
		    mem_from_arg(r, f, i, 0, &off))
			rec_put(r, "kvm.dirty_ring_size", off, 0, 0, 4, K_INT, f->name);
	}
}

/* kvm_vm_ioctl: KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 stores cap->args[0] after
 * testing it against ~allowed_options; vCPU creation passes
 * kvm->dirty_ring_size to kvm_dirty_ring_alloc(ring, index, size). */
static void rule_vm_ioctl(struct rec *r, const struct rfn *f)
{
	for (size_t i = 3; i < f->n; i++) {
		const cs_insn *in = &f->in[i];
		const cs_x86_op *m = rec_mem(in, NULL);
		if (callee_is(r, in, "kvm_dirty_ring_alloc")) {
			long d = rec_def(r, f, i, 2);
			const cs_x86_op *dm = d >= 0 ? rec_mem(&f->in[d], NULL) : NULL;
			if (dm && mem_plain(dm) && is_op(&f->in[d], X86_INS_MOV, 2, X86_OP_REG, X86_OP_MEM) &&
			    op_size(&f->in[d], 0) == 4)
				rec_put(r, "kvm.dirty_ring_size", dm->mem.disp, 0, 0, 4, K_INT, f->name);
			continue;
		}
		if (!is_op(in, X86_INS_MOV, 2, X86_OP_MEM, X86_OP_REG) || op_size(in, 0) != 8 ||
		    !mem_plain(m) || m->mem.disp < 0x40)
			continue;
		int v = op_fam(in, 1);
		bool tested = false, negated = false;
		for (size_t k = i - 3; k < i; k++) {
			const cs_insn *t = &f->in[k];
			if (is_op(t, X86_INS_TEST, 2, X86_OP_REG, X86_OP_REG) &&
			    (op_fam(t, 0) == v || op_fam(t, 1) == v))
				tested = true;
			if (t->id == X86_INS_NOT)
				negated = true;
		}
		if (tested && negated)
			rec_put(r, "kvm.manual_dirty_log_protect", m->mem.disp, 0, 0, 8, K_INT, f->name);
	}
}

/* tdp_mmu_init_sp(child_sp, sptep, gfn, role): set_page_private(
 * virt_to_page(sp->spt), sp); sp->role = role; sp->gfn = gfn; sp->ptep =
 * sptep; sp->tdp_mmu_page = true. */
static void rule_init_sp(struct rec *r, const struct rfn *f)
{
	for (size_t i = 0; i < f->n; i++) {
		int64_t off;
		const cs_insn *in = &f->in[i];
		if (!rec_mem(in, NULL) || !mem_from_arg(r, f, i, 0, &off))
			continue;
		if (is_op(in, X86_INS_ADD, 2, X86_OP_REG, X86_OP_MEM) && op_size(in, 0) == 8) {
			rec_put(r, "kvm_mmu_page.spt", off, 0, 0, 8, K_PTR, f->name);
		} else if (is_op(in, X86_INS_MOV, 2, X86_OP_MEM, X86_OP_IMM) && op_size(in, 0) == 1 &&
			   op_imm(in, 1) == 1) {
			rec_put(r, "kvm_mmu_page.tdp_mmu_page", off, 0, 0, 1, K_INT, f->name);
		} else if (is_op(in, X86_INS_MOV, 2, X86_OP_MEM, X86_OP_REG)) {
			struct origin v = rec_origin(r, f, i, op_fam(in, 1));
			if (v.kind != O_ARG || v.off)
				continue;
			if (v.arg == 3 && op_size(in, 0) == 4)
				rec_put(r, "kvm_mmu_page.role.word", off, 0, 0, 4, K_INT, f->name);
			else if (v.arg == 2 && op_size(in, 0) == 8)
				rec_put(r, "kvm_mmu_page.gfn", off, 0, 0, 8, K_INT, f->name);
			else if (v.arg == 1 && op_size(in, 0) == 8)
				rec_put(r, "kvm_mmu_page.ptep", off, 0, 0, 8, K_PTR, f->name);
		}
	}
}

/* A role bit at byte OFF, bit BIT, as a member of the role union. */
void rec_role_bits(struct rec *r, const char *name, int64_t off, int bit, int bits,
		   const char *from)
{
	uint64_t word;
	if (!rec_get(r, "kvm_mmu_page.role.word", &word) || off < (int64_t)word ||
	    off >= (int64_t)word + 4)
		return;
	char path[64];
	snprintf(path, sizeof(path), "kvm_mmu_page.role.%s", name);
	/* BTF bitfields are counted from the start of the 4-byte word */
	rec_put(r, path, (int64_t)word, (uint32_t)((off - (int64_t)word) * 8 + bit), (uint32_t)bits,
		4, K_INT, from);
}

/* The low-bits mask (0x0f for role.level) applied to the byte that the
 * MOVZX at I loaded, by the first AND on its register within a few
 * instructions (7.x compilers put other work between the two), as long as
 * nothing else writes that register first; 0 if there is none. */
static int64_t movzx_mask(const struct rfn *f, size_t i)
{
	int fam = op_fam(&f->in[i], 0);
	for (size_t k = i + 1; k < f->n && k <= i + 16; k++) {
		const cs_insn *t = &f->in[k];
		if (t->detail->x86.op_count < 1 || t->detail->x86.operands[0].type != X86_OP_REG ||
		    op_fam(t, 0) != fam)
			continue;
		if (is_op(t, X86_INS_AND, 2, X86_OP_REG, X86_OP_IMM)) {
			int64_t mask = op_imm(t, 1);
			return mask > 0 && mask < 0x100 && !(mask & (mask + 1)) ? mask : 0;
		}
		if (t->id != X86_INS_TEST && t->id != X86_INS_CMP)
			return 0;
	}
	return 0;
}

/* tdp_iter_start(iter, root, ...): root->role.level (low bits of its byte,
 * masked), root->spt, and kvm_mmu_page_as_id(root) = role.smm != 0. */
static void rule_iter_start(struct rec *r, const struct rfn *f)
{
	for (size_t i = 0; i < f->n; i++) {
		int64_t off;
		const cs_insn *in = &f->in[i];
		if (!rec_mem(in, NULL) || !mem_from_arg(r, f, i, 1, &off))
			continue;
		int64_t mask;
		if (is_op(in, X86_INS_MOVZX, 2, X86_OP_REG, X86_OP_MEM) && op_size(in, 1) == 1 &&
		    (mask = movzx_mask(f, i))) {
			rec_role_bits(r, "level", off, 0, __builtin_popcountll((unsigned long long)mask),
				      f->name);
		} else if (is_op(in, X86_INS_CMP, 2, X86_OP_MEM, X86_OP_IMM) && op_size(in, 0) == 1 &&
			   op_imm(in, 1) == 0) {
			rec_role_bits(r, "smm", off, 0, 8, f->name);
		} else if (is_op(in, X86_INS_MOV, 2, X86_OP_REG, X86_OP_MEM) && op_size(in, 0) == 8) {
			rec_put(r, "kvm_mmu_page.spt", off, 0, 0, 8, K_PTR, f->name);
		}
	}
}

/* make_spte(vcpu, sp, ...): sp->role.level for the huge-page checks; if
 * (sp->role.ad_disabled) ... else if (guest_mode && cpu_dirty_log_size). */
static void rule_make_spte(struct rec *r, const struct rfn *f)
{
	int64_t ad_off = -1;
	int ad_bit = -1, ad_fam = -1;
	for (size_t i = 0; i < f->n; i++) {
		int64_t off;
		const cs_insn *in = &f->in[i];
		/* guest_mode: another bit of the ad_disabled byte, tested on AL
		 * (6.x) or masked on the register that byte was loaded into (7.x) */
		if (ad_off >= 0 && ((is_op(in, X86_INS_TEST, 2, X86_OP_REG, X86_OP_IMM) &&
				     op_size(in, 0) == 1 && op_fam(in, 0) == 0) ||
				    (is_op(in, X86_INS_AND, 2, X86_OP_REG, X86_OP_IMM) &&
				     op_fam(in, 0) == ad_fam && ad_fam != 0))) {
			int b = single_bit(op_imm(in, 1));
			if (b >= 0 && b != ad_bit) {
				rec_role_bits(r, "guest_mode", ad_off, b, 1, f->name);
				return;
			}
			continue;
		}
		if (!is_op(in, X86_INS_MOVZX, 2, X86_OP_REG, X86_OP_MEM) || op_size(in, 1) != 1 ||
		    !mem_from_arg(r, f, i, 1, &off) || i + 1 >= f->n)
			continue;
		int64_t mask = movzx_mask(f, i);
		if (mask)
			rec_role_bits(r, "level", off, 0, __builtin_popcountll((unsigned long long)mask),
				      f->name);
		/* ad_disabled: the first role byte tested for a single bit (in AL
		 * on 6.x; 7.x loads it into another register) */
		for (size_t k = i + 1; k < f->n && k < i + 4 && ad_off < 0 && !mask; k++) {
			const cs_insn *tt = &f->in[k];
			if (is_op(tt, X86_INS_TEST, 2, X86_OP_REG, X86_OP_IMM) && op_fam(tt, 0) == op_fam(in, 0) &&
			    single_bit(op_imm(tt, 1)) >= 0) {
				ad_off = off;
				ad_fam = op_fam(in, 0);
				ad_bit = single_bit(op_imm(tt, 1));
				rec_role_bits(r, "ad_disabled", off, ad_bit, 1, f->name);
				i = k;
			}
		}
	}
}

/* A root leaves the roots list by list_del(&root->link), whose
 * __list_del_entry_valid(entry) call takes the link's address in RDI: the
 * root argument plus the member's offset. True when instruction i is that
 * call (recorded or not), so the caller skips it. */
static bool root_link_del(struct rec *r, const struct rfn *f, size_t i)
{
	if (!callee_is(r, &f->in[i], "__list_del_entry_valid"))
		return false;
	struct origin o = rec_origin(r, f, i, 7);
	if (origin_is_arg(o, 1))
		rec_put(r, "kvm_mmu_page.link", o.off, 0, 0, 16, K_LIST, f->name);
	return true;
}

/* kvm_tdp_mmu_put_root(kvm, root): refcount_dec_and_test(&root->
 * tdp_mmu_root_count); KVM_BUG_ON(!root->role.invalid); list_del_rcu(
 * &root->link). */
static void rule_put_root(struct rec *r, const struct rfn *f)
{
	for (size_t i = 0; i < f->n; i++) {
		int64_t off;
		const cs_insn *in = &f->in[i];
		if (root_link_del(r, f, i))
			continue;
		if (!rec_mem(in, NULL) || !mem_from_arg(r, f, i, 1, &off))
			continue;
		if ((in->id == X86_INS_XADD || in->id == X86_INS_DEC || in->id == X86_INS_SUB) &&
		    op_size(in, 0) == 4 && in->detail->x86.operands[0].type == X86_OP_MEM &&
		    !rec_find(r, "kvm_mmu_page.tdp_mmu_root_count.refs.counter"))
			rec_put(r, "kvm_mmu_page.tdp_mmu_root_count.refs.counter", off, 0, 0, 4, K_SINT,
				f->name);
		else if (is_op(in, X86_INS_TEST, 2, X86_OP_MEM, X86_OP_IMM) && op_size(in, 0) == 1 &&
			 single_bit(op_imm(in, 1)) >= 0)
			rec_role_bits(r, "invalid", off, single_bit(op_imm(in, 1)), 1, f->name);
	}
}

/* refcount_set(&root->tdp_mmu_root_count, 2) when a root is created. */
static void rule_root_refcount(struct rec *r, const struct rfn *f)
{
	for (size_t i = 0; i < f->n; i++) {
		const cs_insn *in = &f->in[i];
		const cs_x86_op *m = rec_mem(in, NULL);
		if (is_op(in, X86_INS_MOV, 2, X86_OP_MEM, X86_OP_IMM) && op_size(in, 0) == 4 &&
		    op_imm(in, 1) == 2 && mem_plain(m)) {
			rec_put(r, "kvm_mmu_page.tdp_mmu_root_count.refs.counter", m->mem.disp, 0, 0, 4,
				K_SINT, f->name);
			return;
		}
	}
}

/* kvm_tdp_mmu_invalidate_all_roots(kvm): for each root on
 * kvm->arch.tdp_mmu_roots: if (!root->role.invalid) {
 * root->tdp_mmu_scheduled_root_to_zap = true; root->role.invalid = true; }
 * (kvm_tdp_mmu_invalidate_roots(kvm, types) where the code has that name).
 * The cursor is &root->link, so its displacements are offsets - link. */
static void rule_invalidate_roots(struct rec *r, const struct rfn *f)
{
	uint64_t link;
	bool have_link = rec_get(r, "kvm_mmu_page.link", &link);
	bool head = false;
	for (size_t i = 0; i < f->n; i++) {
		int64_t off;
		const cs_insn *in = &f->in[i];
		const cs_x86_op *m = rec_mem(in, NULL);
		if (!head && is_op(in, X86_INS_MOV, 2, X86_OP_REG, X86_OP_MEM) && op_size(in, 0) == 8 &&
		    mem_from_arg(r, f, i, 0, &off)) {
			rec_put(r, "kvm.arch.tdp_mmu_roots", off, 0, 0, 16, K_LIST, f->name);
			head = true;
			continue;
		}
		if (!have_link || !mem_plain(m) || mem_from_arg(r, f, i, 0, &off))
			continue;
		int64_t at = (int64_t)link + m->mem.disp;
		if (is_op(in, X86_INS_MOVZX, 2, X86_OP_REG, X86_OP_MEM) && op_size(in, 1) == 1 &&
		    i + 1 < f->n && is_op(&f->in[i + 1], X86_INS_TEST, 2, X86_OP_REG, X86_OP_IMM) &&
		    single_bit(op_imm(&f->in[i + 1], 1)) >= 0)
			rec_role_bits(r, "invalid", at, single_bit(op_imm(&f->in[i + 1], 1)), 1, f->name);
		else if (is_op(in, X86_INS_MOV, 2, X86_OP_MEM, X86_OP_IMM) && op_size(in, 0) == 1 &&
			 op_imm(in, 1) == 1)
			rec_put(r, "kvm_mmu_page.tdp_mmu_scheduled_root_to_zap", at, 0, 0, 1, K_INT, f->name);
	}
}



/* ---- rules for the array era (before 5.17) and 5.10's TDP MMU ------------ */

/* kvm_get_vcpu(kvm, i) inlined: n = atomic_read(&kvm->online_vcpus); i =
 * array_index_nospec(i, n) (cmp, sbb, and); vcpu = kvm->vcpus[i], a load
 * [kvm + i*8 + vcpus] from the pointer the bound was read from.  Where the
 * vCPU is created (kvm_vm_ioctl), the bound check `id < KVM_MAX_VCPUS`
 * gives the array's length, kvm_get_vcpu_by_id compares vcpu->vcpu_id. */
static void rule_vcpus_array(struct rec *r, const struct rfn *f)
{
	for (size_t i = 0; i < f->n; i++) {
		const cs_insn *in = &f->in[i];
		const cs_x86_op *m = rec_mem(in, NULL);
		if (!is_op(in, X86_INS_MOV, 2, X86_OP_REG, X86_OP_MEM) || op_size(in, 0) != 8 || !m ||
		    m->mem.scale != 8 || m->mem.index == X86_REG_INVALID || reg_fam(m->mem.base) < 0 ||
		    reg_fam(m->mem.base) == 4 || m->mem.segment != X86_REG_INVALID || m->mem.disp <= 0)
			continue;
		/* the index went through array_index_nospec: sbb just before */
		bool sbb = false;
		long bound = -1;
		for (size_t k = i; k-- > 0 && k + 8 > i;) {
			const cs_insn *b = &f->in[k];
			const cs_x86_op *bm = rec_mem(b, NULL);
			if (b->id == X86_INS_SBB)
				sbb = true;
			if (sbb && (b->id == X86_INS_MOVSXD || b->id == X86_INS_MOV) &&
			    is_op(b, b->id, 2, X86_OP_REG, X86_OP_MEM) && op_size(b, 1) == 4 && mem_plain(bm) &&
			    reg_fam(bm->mem.base) == reg_fam(m->mem.base)) {
				bound = (long)k;
				break;
			}
		}
		if (bound < 0)
			continue;
		struct origin a = rec_origin(r, f, i, reg_fam(m->mem.base));
		struct origin b = rec_origin(r, f, (size_t)bound, reg_fam(rec_mem(&f->in[bound], NULL)->mem.base));
		if (a.kind == O_NONE || a.kind != b.kind || a.arg != b.arg || a.insn != b.insn || a.off != b.off)
			continue;
		int64_t online = b.off + rec_mem(&f->in[bound], NULL)->mem.disp;
		/* the length: `cmp $N-1, id; jg` before, in the creating function */
		uint32_t count = 0;
		for (size_t k = (size_t)bound; k-- > 0 && k + 12 > (size_t)bound;)
			if (is_op(&f->in[k], X86_INS_CMP, 2, X86_OP_REG, X86_OP_IMM) &&
			    op_imm(&f->in[k], 1) > 0 && op_imm(&f->in[k], 1) < 65536 && k + 1 < f->n &&
			    (f->in[k + 1].id == X86_INS_JG || f->in[k + 1].id == X86_INS_JA)) {
				count = (uint32_t)op_imm(&f->in[k], 1) + 1;
				break;
			}
		rec_put(r, "kvm.vcpus", a.off + m->mem.disp, 0, 0, 8 * (count ? count : 1), K_PTRARRAY,
			f->name);
		rec_put(r, "kvm.online_vcpus", online, 0, 0, 4, K_SINT, f->name);
		struct recover_item *it = rec_find(r, "kvm.vcpus");
		if (it && count) {
			if (it->count && it->count != count)
				it->conflict = true;
			it->count = count;
			it->size = 8 * count;
		}
		/* if (vcpu && vcpu->vcpu_id == id) */
		for (size_t k = i + 1; k < f->n && k < i + 5; k++) {
			const cs_x86_op *cm = rec_mem(&f->in[k], NULL);
			if (f->in[k].id == X86_INS_CMP && f->in[k].detail->x86.op_count == 2 &&
			    op_size(&f->in[k], 0) == 4 &&
			    mem_plain(cm) && reg_fam(cm->mem.base) == op_fam(in, 0) &&
			    rec_def(r, f, k, op_fam(in, 0)) == (long)i) {
				rec_put(r, "kvm_vcpu.vcpu_id", cm->mem.disp, 0, 0, 4, K_INT, f->name);
				break;
			}
		}
		if (count)
			return; /* the creating function: one is enough */
	}
}

/* kvm_arch_vcpu_should_kick: kvm_vcpu_exiting_guest_mode as one
 * cmpxchg(&vcpu->mode, IN_GUEST_MODE (1), EXITING_GUEST_MODE (2)). */
static void rule_vcpu_mode_cmpxchg(struct rec *r, const struct rfn *f)
{
	for (size_t i = 0; i < f->n; i++) {
		int64_t off;
		const cs_insn *in = &f->in[i];
		if (!is_op(in, X86_INS_CMPXCHG, 2, X86_OP_MEM, X86_OP_REG) || op_size(in, 0) != 4 ||
		    !mem_from_arg(r, f, i, 0, &off))
			continue;
		long a = rec_def(r, f, i, 0), n = rec_def(r, f, i, op_fam(in, 1));
		if (a >= 0 && n >= 0 && is_op(&f->in[a], X86_INS_MOV, 2, X86_OP_REG, X86_OP_IMM) &&
		    op_imm(&f->in[a], 1) == 1 && is_op(&f->in[n], X86_INS_MOV, 2, X86_OP_REG, X86_OP_IMM) &&
		    op_imm(&f->in[n], 1) == 2)
			rec_put(r, "kvm_vcpu.mode", off, 0, 0, 4, K_INT, f->name);
		return;
	}
}

/* Multiples of one index register through lea/shl chains: mult[fam] is
 * how many times the index a register holds, 0 if unrelated. */
static void rec_mult_step(const cs_insn *a, int64_t mult[16])
{
	const cs_x86_op *am = rec_mem(a, NULL);
	if (a->id == X86_INS_LEA && am && am->mem.disp == 0 && am->mem.segment == X86_REG_INVALID) {
		int b = reg_fam(am->mem.base), x = reg_fam(am->mem.index), d = op_fam(a, 0);
		int64_t v = (b >= 0 ? mult[b] : 0) + (x >= 0 ? am->mem.scale * mult[x] : 0);
		if (d >= 0 && ((b >= 0 && mult[b]) || (x >= 0 && mult[x])) && (b < 0 || mult[b] || b == d) &&
		    (x < 0 || mult[x]))
			mult[d] = v;
		else if (d >= 0)
			mult[d] = 0;
	} else if (is_op(a, X86_INS_SHL, 2, X86_OP_REG, X86_OP_IMM) && op_imm(a, 1) < 8 && op_fam(a, 0) >= 0) {
		mult[op_fam(a, 0)] <<= op_imm(a, 1);
	} else if (a->id == X86_INS_CDQE) {
		/* cltq: rax keeps its multiple */
	} else if (is_op(a, X86_INS_MOV, 2, X86_OP_REG, X86_OP_REG) && op_fam(a, 0) >= 0 && op_fam(a, 1) >= 0) {
		mult[op_fam(a, 0)] = mult[op_fam(a, 1)];
	} else {
		const cs_x86 *x = &a->detail->x86;
		if (x->op_count >= 1 && x->operands[0].type == X86_OP_REG && op_fam(a, 0) >= 0 &&
		    a->id != X86_INS_CMP && a->id != X86_INS_TEST)
			mult[op_fam(a, 0)] = 0;
	}
}

/* The slots array of struct kvm_memslots (before 5.17): from instruction
 * I, which loads the struct kvm_memslots pointer (or any later use of
 * it), an index scaled by sizeof(struct kvm_memory_slot) onto
 * memslots[]: lea base, [ms + memslots] ... [base + idx*11*8], or the end
 * pointer lea [ms + used*88 + memslots] with used = ms->used_slots. */
static bool rec_slot_array(struct rec *r, const struct rfn *f, size_t from, long ms)
{
	int64_t base_off = -1, used_off = -1, stride = 0;
	int base_fam = -1;
	for (size_t k = from; k < f->n && k < from + 48; k++) {
		const cs_insn *in = &f->in[k];
		const cs_x86_op *m = rec_mem(in, NULL);
		if (in->id == X86_INS_LEA && mem_plain(m) && m->mem.disp > 0) {
			struct origin o = rec_origin(r, f, k, reg_fam(m->mem.base));
			if (o.kind == O_INSN && o.insn == ms) {
				base_off = o.off + m->mem.disp;
				base_fam = op_fam(in, 0);
			}
		}
		if ((is_op(in, X86_INS_MOV, 2, X86_OP_REG, X86_OP_MEM) ||
		     is_op(in, X86_INS_MOVSXD, 2, X86_OP_REG, X86_OP_MEM)) && op_size(in, 1) == 4 &&
		    mem_plain(m) && used_off < 0) {
			struct origin o = rec_origin(r, f, k, reg_fam(m->mem.base));
			if (o.kind != O_INSN || o.insn != ms)
				continue;
			/* used_slots: tested for zero, or scaled into the end pointer */
			int d = op_fam(in, 0);
			int64_t mult[16] = { 0 };
			mult[d] = 1;
			for (size_t t = k + 1; t < f->n && t < k + 8; t++) {
				const cs_insn *u = &f->in[t];
				const cs_x86_op *um = rec_mem(u, NULL);
				if (is_op(u, X86_INS_TEST, 2, X86_OP_REG, X86_OP_REG) && op_fam(u, 0) == d &&
				    op_fam(u, 1) == d) {
					used_off = o.off + m->mem.disp;
					break;
				}
				if (u->id == X86_INS_LEA && um && um->mem.scale == 8 && reg_fam(um->mem.index) >= 0 &&
				    mult[reg_fam(um->mem.index)] > 1 && um->mem.disp > 0) {
					struct origin bo = rec_origin(r, f, t, reg_fam(um->mem.base));
					if (bo.kind == O_INSN && f->in[bo.insn].id == X86_INS_MOV &&
					    rec_mem(&f->in[bo.insn], NULL) && rec_mem(&f->in[ms], NULL) &&
					    rec_mem(&f->in[bo.insn], NULL)->mem.disp == rec_mem(&f->in[ms], NULL)->mem.disp) {
						used_off = o.off + m->mem.disp;
						base_off = bo.off + um->mem.disp;
						stride = 8 * mult[reg_fam(um->mem.index)];
					}
					break;
				}
				rec_mult_step(u, mult);
			}
			continue;
		}
		/* the scaled access through the base */
		if (base_fam >= 0 && !stride && m && m->mem.scale == 8 && reg_fam(m->mem.base) == base_fam &&
		    reg_fam(m->mem.index) >= 0 && m->mem.disp == 0) {
			int x = reg_fam(m->mem.index);
			int64_t mult[16] = { 0 };
			/* walk the index back to where it was a plain index */
			size_t s0 = k > 8 ? k - 8 : 0;
			long d = rec_def(r, f, k, x);
			if (d < 0)
				continue;
			for (size_t t = (size_t)d; t > s0; t--) {
				const cs_insn *u = &f->in[t - 1];
				if (u->id == X86_INS_LEA)
					continue;
				s0 = t;
				break;
			}
			const cs_insn *first = &f->in[s0];
			const cs_x86_op *fm = rec_mem(first, NULL);
			if (first->id != X86_INS_LEA || !fm)
				continue;
			mult[reg_fam(fm->mem.base)] = 1;
			for (size_t t = s0; t < k; t++)
				rec_mult_step(&f->in[t], mult);
			if (mult[x] > 1 && mult[x] < 64)
				stride = 8 * mult[x];
		}
	}
	if (base_off <= 0 || stride < 32 || stride > 512)
		return false;
	rec_put(r, "kvm_memslots.memslots", base_off, 0, 0, 0, K_NODEARRAY, f->name);
	struct recover_item *it = rec_find(r, "kvm_memslots.memslots");
	if (it) {
		if (it->stride && it->stride != (uint32_t)stride)
			it->conflict = true;
		it->stride = (uint32_t)stride;
	}
	rec_put(r, "kvm_memory_slot", 0, 0, 0, (uint32_t)stride, K_SIZE, f->name);
	if (used_off >= 0)
		rec_put(r, "kvm_memslots.used_slots", used_off, 0, 0, 4, K_SINT, f->name);
	return true;
}

/* __kvm_set_memory_region: the end of the slots array, &slots->
 * memslots[slots->used_slots], for the overlap search; the set pointer is
 * loaded again and again (an 8-byte load from the same place). */
static void rule_slot_array_end(struct rec *r, const struct rfn *f)
{
	for (size_t i = 0; i < f->n; i++) {
		const cs_insn *in = &f->in[i];
		if (is_op(in, X86_INS_MOV, 2, X86_OP_REG, X86_OP_MEM) && op_size(in, 0) == 8 &&
		    rec_mem(in, NULL)->mem.index != X86_REG_INVALID && rec_slot_array(r, f, i + 1, (long)i) &&
		    rec_find(r, "kvm_memslots.used_slots"))
			return;
	}
}

/* alloc_tdp_mmu_page(vcpu, gfn, level) in 5.10: sp from the first cache
 * allocation, sp->spt = the second; set_page_private(virt_to_page(spt),
 * sp); sp->role.word = role with level = level & 0xf; sp->gfn = gfn;
 * sp->tdp_mmu_page = true. */
static void rule_alloc_tdp_page(struct rec *r, const struct rfn *f)
{
	long c1 = -1;
	for (size_t i = 0; i < f->n && c1 < 0; i++)
		if (f->in[i].id == X86_INS_CALL)
			c1 = (long)i;
	if (c1 < 0)
		return;
	int64_t word = -1;
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = (size_t)c1 + 1; i < f->n; i++) {
			const cs_insn *in = &f->in[i];
			const cs_x86_op *m = rec_mem(in, NULL);
			if (pass == 1) {
				/* level: the level argument masked to the role's low bits */
				if (is_op(in, X86_INS_AND, 2, X86_OP_REG, X86_OP_IMM) && word >= 0 &&
				    origin_is_arg(rec_origin(r, f, i, op_fam(in, 0)), 2)) {
					int64_t mask = op_imm(in, 1);
					if (mask > 0 && mask < 0x100 && !(mask & (mask + 1)))
						rec_role_bits(r, "level", word, 0,
							      __builtin_popcountll((unsigned long long)mask), f->name);
				}
				continue;
			}
			if (!mem_plain(m) || in->detail->x86.operands[0].type != X86_OP_MEM)
				continue;
			struct origin o = rec_origin(r, f, i, reg_fam(m->mem.base));
			if (o.kind != O_INSN || o.insn != c1)
				continue;
			int64_t off = o.off + m->mem.disp;
			if (is_op(in, X86_INS_MOV, 2, X86_OP_MEM, X86_OP_IMM) && op_size(in, 0) == 1 &&
			    op_imm(in, 1) == 1) {
				rec_put(r, "kvm_mmu_page.tdp_mmu_page", off, 0, 0, 1, K_INT, f->name);
			} else if (is_op(in, X86_INS_MOV, 2, X86_OP_MEM, X86_OP_REG) && op_size(in, 0) == 8) {
				struct origin v = rec_origin(r, f, i, op_fam(in, 1));
				if (v.kind == O_INSN && f->in[v.insn].id == X86_INS_CALL && v.insn != c1 && !v.off)
					rec_put(r, "kvm_mmu_page.spt", off, 0, 0, 8, K_PTR, f->name);
				else if (origin_is_arg(v, 1) && !v.off)
					rec_put(r, "kvm_mmu_page.gfn", off, 0, 0, 8, K_INT, f->name);
			} else if (is_op(in, X86_INS_MOV, 2, X86_OP_MEM, X86_OP_REG) && op_size(in, 0) == 4) {
				rec_put(r, "kvm_mmu_page.role.word", off, 0, 0, 4, K_INT, f->name);
				word = off;
			}
		}
}

/* kvm_tdp_mmu_free_root(kvm, root) in 5.10: WARN_ON(root->root_count);
 * WARN_ON(!root->tdp_mmu_page); list_del(&root->link); ...;
 * free_page(root->spt). */
static void rule_free_root(struct rec *r, const struct rfn *f)
{
	for (size_t i = 0; i < f->n; i++) {
		int64_t off;
		const cs_insn *in = &f->in[i];
		if (root_link_del(r, f, i))
			continue;
		if (!rec_mem(in, NULL) || !mem_from_arg(r, f, i, 1, &off) || i + 1 >= f->n)
			continue;
		const cs_insn *nx = &f->in[i + 1];
		if (is_op(in, X86_INS_MOV, 2, X86_OP_REG, X86_OP_MEM) && op_size(in, 0) == 4 &&
		    is_op(nx, X86_INS_TEST, 2, X86_OP_REG, X86_OP_REG) && op_fam(nx, 0) == op_fam(in, 0))
			rec_put(r, "kvm_mmu_page.root_count", off, 0, 0, 4, K_SINT, f->name);
		else if (is_op(in, X86_INS_CMP, 2, X86_OP_MEM, X86_OP_IMM) && op_size(in, 0) == 1 &&
			 op_imm(in, 1) == 0)
			rec_put(r, "kvm_mmu_page.tdp_mmu_page", off, 0, 0, 1, K_INT, f->name);
		else if (is_op(in, X86_INS_MOV, 2, X86_OP_REG, X86_OP_MEM) && op_size(in, 0) == 8 &&
			 op_fam(in, 0) == 7 && callee_is(r, nx, "free_pages"))
			rec_put(r, "kvm_mmu_page.spt", off, 0, 0, 8, K_PTR, f->name);
		else if (is_op(in, X86_INS_MOV, 2, X86_OP_REG, X86_OP_MEM) && op_size(in, 0) == 8 &&
			 op_fam(in, 0) == 7 && i + 2 < f->n && callee_is(r, &f->in[i + 2], "free_pages"))
			rec_put(r, "kvm_mmu_page.spt", off, 0, 0, 8, K_PTR, f->name);
	}
}

/* kvm_tdp_mmu_get_vcpu_root_hpa in 5.10: a new root's root_count = 1
 * right after alloc_tdp_mmu_page returns it; an existing one matches by
 * root->role.word == role.word. */
static void rule_vcpu_root_510(struct rec *r, const struct rfn *f)
{
	uint64_t link = 0;
	bool have_link = rec_get(r, "kvm_mmu_page.link", &link), word = false;
	for (size_t i = 0; i < f->n; i++) {
		const cs_insn *in = &f->in[i];
		const cs_x86_op *m = rec_mem(in, NULL);
		if (is_op(in, X86_INS_MOV, 2, X86_OP_MEM, X86_OP_IMM) && op_size(in, 0) == 4 &&
		    op_imm(in, 1) == 1 && mem_plain(m)) {
			struct origin o = rec_origin(r, f, i, reg_fam(m->mem.base));
			if (o.kind == O_INSN && callee_is(r, &f->in[o.insn], "alloc_tdp_mmu_page"))
				rec_put(r, "kvm_mmu_page.root_count", o.off + m->mem.disp, 0, 0, 4, K_SINT,
					f->name);
		}
		/* the list cursor is &root->link */
		if (have_link && is_op(in, X86_INS_CMP, 2, X86_OP_MEM, X86_OP_REG) && op_size(in, 0) == 4 &&
		    mem_plain(m) && !word) {
			long d = rec_def(r, f, i, reg_fam(m->mem.base));
			const cs_x86_op *dm = d >= 0 ? rec_mem(&f->in[d], NULL) : NULL;
			if (dm && mem_plain(dm) && dm->mem.disp == 0 && f->in[d].id == X86_INS_MOV) {
				rec_put(r, "kvm_mmu_page.role.word", (int64_t)link + m->mem.disp, 0, 0, 4, K_INT,
					f->name);
				word = true;
			}
		}
	}
}

/* for_each_tdp_mmu_root(kvm, root) { if (kvm_mmu_page_as_id(root) !=
 * slot->as_id) continue; ...}: cmpb $0, root->role.smm; setne; cmp
 * %ax, slot->as_id (kvm_tdp_mmu_write_protect_gfn(kvm, slot, gfn)). */
static void rule_root_as_id(struct rec *r, const struct rfn *f)
{
	uint64_t link;
	if (!rec_get(r, "kvm_mmu_page.link", &link))
		return;
	for (size_t i = 0; i + 2 < f->n; i++) {
		const cs_insn *in = &f->in[i];
		const cs_x86_op *m = rec_mem(in, NULL);
		if (!is_op(in, X86_INS_CMP, 2, X86_OP_MEM, X86_OP_IMM) || op_size(in, 0) != 1 ||
		    op_imm(in, 1) != 0 || !mem_plain(m) || f->in[i + 1].id != X86_INS_SETNE)
			continue;
		int64_t off;
		const cs_insn *c = &f->in[i + 2];
		if (!is_op(c, X86_INS_CMP, 2, X86_OP_MEM, X86_OP_REG) || op_size(c, 0) != 2 ||
		    !mem_from_arg(r, f, i + 2, 1, &off))
			continue;
		rec_put(r, "kvm_memory_slot.as_id", off, 0, 0, 2, K_INT, f->name);
		rec_role_bits(r, "smm", (int64_t)link + m->mem.disp, 0, 8, f->name);
		return;
	}
}

/* mmu_free_root_page: if (!--sp->root_count && sp->role.invalid): the
 * first single-bit test of a role byte of the page whose root_count was
 * just decremented. */
static void rule_free_root_page(struct rec *r, const struct rfn *f)
{
	uint64_t rc;
	if (!rec_get(r, "kvm_mmu_page.root_count", &rc))
		return;
	int fam = -1;
	for (size_t i = 0; i < f->n; i++) {
		const cs_insn *in = &f->in[i];
		const cs_x86_op *m = rec_mem(in, NULL);
		if ((in->id == X86_INS_SUB || in->id == X86_INS_DEC) && mem_plain(m) &&
		    in->detail->x86.operands[0].type == X86_OP_MEM && op_size(in, 0) == 4 &&
		    (uint64_t)m->mem.disp == rc)
			fam = reg_fam(m->mem.base);
		else if (fam >= 0 && is_op(in, X86_INS_TEST, 2, X86_OP_MEM, X86_OP_IMM) && op_size(in, 0) == 1 &&
			 mem_plain(m) && reg_fam(m->mem.base) == fam && single_bit(op_imm(in, 1)) >= 0) {
			rec_role_bits(r, "invalid", m->mem.disp, single_bit(op_imm(in, 1)), 1, f->name);
			return;
		}
	}
}

/* set_spte (5.10) passes sp_ad_disabled(sp) to make_spte: movzx of a role
 * byte of the page found through page->private, and $bit. */
static void rule_set_spte_ad(struct rec *r, const struct rfn *f)
{
	uint64_t word;
	if (!rec_get(r, "kvm_mmu_page.role.word", &word))
		return;
	for (size_t i = 0; i + 1 < f->n; i++) {
		const cs_insn *in = &f->in[i];
		const cs_x86_op *m = rec_mem(in, NULL);
		const cs_insn *a = &f->in[i + 1];
		if (!is_op(in, X86_INS_MOVZX, 2, X86_OP_REG, X86_OP_MEM) || op_size(in, 1) != 1 ||
		    !mem_plain(m) || m->mem.disp < (int64_t)word || m->mem.disp >= (int64_t)word + 4 ||
		    !is_op(a, X86_INS_AND, 2, X86_OP_REG, X86_OP_IMM) || op_fam(a, 0) != op_fam(in, 0) ||
		    single_bit(op_imm(a, 1)) < 0)
			continue;
		rec_role_bits(r, "ad_disabled", m->mem.disp, single_bit(op_imm(a, 1)), 1, f->name);
		return;
	}
}

/* mmu_page_zap_pte: tdp_enabled && child->role.guest_mode && !parent_ptes:
 * the one single-bit test of a role byte that is not ad_disabled. */
static void rule_zap_pte_guest_mode(struct rec *r, const struct rfn *f)
{
	uint64_t word;
	struct recover_item *ad = rec_find(r, "kvm_mmu_page.role.ad_disabled");
	if (!rec_get(r, "kvm_mmu_page.role.word", &word) || !ad || ad->conflict)
		return;
	int64_t found = -1;
	int bit = -1;
	for (size_t i = 0; i < f->n; i++) {
		const cs_insn *in = &f->in[i];
		const cs_x86_op *m = rec_mem(in, NULL);
		if (!is_op(in, X86_INS_TEST, 2, X86_OP_MEM, X86_OP_IMM) || op_size(in, 0) != 1 || !mem_plain(m) ||
		    m->mem.disp < (int64_t)word || m->mem.disp >= (int64_t)word + 4 ||
		    single_bit(op_imm(in, 1)) < 0)
			continue;
		int b = (int)(m->mem.disp - (int64_t)word) * 8 + single_bit(op_imm(in, 1));
		if (b == (int)ad->bit || b < 12) /* not ad_disabled, not level/access/invalid */
			continue;
		if (found >= 0 && (found != m->mem.disp || bit != single_bit(op_imm(in, 1))))
			return; /* ambiguous */
		found = m->mem.disp;
		bit = single_bit(op_imm(in, 1));
	}
	if (found >= 0)
		rec_role_bits(r, "guest_mode", found, bit, 1, f->name);
}

/* id_to_memslot(slots, id) inlined (__kvm_set_memory_region): index =
 * slots->id_to_index[id] (a 16-bit load scaled by 2, id bounded by `cmp
 * $N-1, id` before), slot = &slots->memslots[index], WARN_ON(slot->id !=
 * id): a 16-bit load from memslots[index] past the array's start. */
static void rule_id_to_memslot(struct rec *r, const struct rfn *f)
{
	uint64_t slots;
	struct recover_item *arr = rec_find(r, "kvm_memslots.memslots");
	if (!rec_get(r, "kvm_memslots.memslots", &slots) || !arr->stride)
		return;
	for (size_t i = 0; i < f->n; i++) {
		const cs_insn *in = &f->in[i];
		const cs_x86_op *m = rec_mem(in, NULL);
		if ((in->id != X86_INS_MOVSX && in->id != X86_INS_MOVSXD) || !m || op_size(in, 1) != 2 ||
		    m->mem.scale != 2 || reg_fam(m->mem.index) < 0 || reg_fam(m->mem.base) < 0 ||
		    m->mem.disp <= 0 || (uint64_t)m->mem.disp >= slots)
			continue;
		int base = reg_fam(m->mem.base);
		/* the id's bound, on the register the index was copied from */
		uint32_t count = 0;
		long d = rec_def(r, f, i, reg_fam(m->mem.index));
		int idf = d >= 0 && f->in[d].detail->x86.op_count == 2 &&
			  f->in[d].detail->x86.operands[1].type == X86_OP_REG ? op_fam(&f->in[d], 1) : -1;
		for (size_t k = i; idf >= 0 && k-- > 0 && k + 64 > i;)
			if (is_op(&f->in[k], X86_INS_CMP, 2, X86_OP_REG, X86_OP_IMM) && op_fam(&f->in[k], 0) == idf &&
			    op_imm(&f->in[k], 1) > 0 && op_imm(&f->in[k], 1) < 65536) {
				count = (uint32_t)op_imm(&f->in[k], 1) + 1;
				break;
			}
		for (size_t k = i + 1; k < f->n && k < i + 12; k++) {
			const cs_insn *c = &f->in[k];
			const cs_x86_op *cm = rec_mem(c, NULL);
			if ((c->id != X86_INS_MOVSX && c->id != X86_INS_MOVSXD) || !cm || op_size(c, 1) != 2 ||
			    cm->mem.scale != 8 || reg_fam(cm->mem.base) != base ||
			    (uint64_t)cm->mem.disp < slots || (uint64_t)cm->mem.disp >= slots + arr->stride)
				continue;
			rec_put(r, "kvm_memory_slot.id", cm->mem.disp - (int64_t)slots, 0, 0, 2, K_SINT, f->name);
			if (count) {
				rec_put(r, "kvm_memslots.id_to_index", m->mem.disp, 0, 0, 2 * count, K_SHORTS,
					f->name);
				struct recover_item *it = rec_find(r, "kvm_memslots.id_to_index");
				if (it)
					it->count = count;
			}
			return;
		}
	}
}

/* kvm_vm_ioctl_create_vcpu: vcpu->vcpu_idx = atomic_read(&kvm->
 * online_vcpus) as a sign-extending load (movslq) and a dword store. */
static void rule_vcpu_idx_sx(struct rec *r, const struct rfn *f)
{
	uint64_t online;
	if (!rec_get(r, "kvm.online_vcpus", &online))
		return;
	for (size_t i = 0; i + 1 < f->n; i++) {
		const cs_insn *in = &f->in[i];
		const cs_x86_op *m = rec_mem(in, NULL);
		if (!is_op(in, X86_INS_MOVSXD, 2, X86_OP_REG, X86_OP_MEM) || !mem_plain(m) ||
		    (uint64_t)m->mem.disp != online)
			continue;
		const cs_insn *s = &f->in[i + 1];
		const cs_x86_op *sm = rec_mem(s, NULL);
		if (is_op(s, X86_INS_MOV, 2, X86_OP_MEM, X86_OP_REG) && op_size(s, 0) == 4 &&
		    op_fam(s, 1) == op_fam(in, 0) && mem_plain(sm) && reg_fam(sm->mem.base) != reg_fam(m->mem.base))
			rec_put(r, "kvm_vcpu.vcpu_idx", sm->mem.disp, 0, 0, 4, K_INT, f->name);
	}
}

/* Name and offset of the symbol a RIP-relative operand points into. */
static const char *rec_rip_sym(const struct rec *r, const cs_insn *in, uint64_t *off)
{
	const cs_x86_op *m = rec_mem(in, NULL);
	const char *mod;
	if (!m || m->mem.base != X86_REG_RIP)
		return NULL;
	const char *s = r->in->symbolize(r->in->ctx, in->address + in->size + (uint64_t)m->mem.disp, off,
					 &mod);
	return s && *off < 4096 ? s : NULL;
}

/* make_spte: is_nx_huge_page_enabled(kvm) = nx_huge_pages &&
 * !kvm->arch.disable_nx_huge_pages; kvm_mmu_page_ad_need_write_protect()
 * reads kvm_x86_ops.cpu_dirty_log_size. */
static void rule_make_spte_globals(struct rec *r, const struct rfn *f)
{
	bool ops = false, nx = false;
	for (size_t i = 0; i < f->n; i++) {
		uint64_t off;
		const char *s = rec_rip_sym(r, &f->in[i], &off);
		/* a dword of kvm_x86_ops (a function pointer is no count) */
		ops |= s && !strcmp(s, "kvm_x86_ops") && is_op(&f->in[i], X86_INS_MOV, 2, X86_OP_REG, X86_OP_MEM) &&
		       op_size(&f->in[i], 0) == 4;
		nx |= s && !strcmp(s, "nx_huge_pages");
		if (!s || !is_op(&f->in[i], X86_INS_MOV, 2, X86_OP_REG, X86_OP_MEM))
			continue;
		if (!strcmp(s, "kvm_x86_ops") && op_size(&f->in[i], 0) == 4 &&
		    !rec_find(r, "kvm_x86_ops.cpu_dirty_log_size"))
			rec_put(r, "kvm_x86_ops.cpu_dirty_log_size", (int64_t)off, 0, 0, 4, K_INT, f->name);
		if (strcmp(s, "nx_huge_pages") || off)
			continue;
		for (size_t k = i + 1; k < f->n && k < i + 6; k++) {
			const cs_x86_op *m = rec_mem(&f->in[k], NULL);
			if (is_op(&f->in[k], X86_INS_CMP, 2, X86_OP_MEM, X86_OP_IMM) && op_size(&f->in[k], 0) == 1 &&
			    op_imm(&f->in[k], 1) == 0 && mem_plain(m)) {
				rec_put(r, "kvm.arch.disable_nx_huge_pages", m->mem.disp, 0, 0, 1, K_INT, f->name);
				break;
			}
		}
	}
	/* What make_spte shows is not there (5.10): no per-VM NX switch after
	 * reading nx_huge_pages, no kvm_x86_ops (cpu_dirty_log_size) at all. */
	r->no_x86ops = !ops;
	r->no_disable_nx |= nx && !rec_find(r, "kvm.arch.disable_nx_huge_pages");
}

/* is_nx_huge_page_enabled() out of line (5.10): only the global, no VM
 * argument read, so no per-VM switch. */
static void rule_nx_enabled(struct rec *r, const struct rfn *f)
{
	bool nx = false;
	for (size_t i = 0; i < f->n; i++) {
		uint64_t off;
		const char *s = rec_rip_sym(r, &f->in[i], &off);
		const cs_x86_op *m = rec_mem(&f->in[i], NULL);
		nx |= s && !strcmp(s, "nx_huge_pages");
		if (mem_plain(m) && reg_fam(m->mem.base) == 7)
			return; /* reads through its argument */
		if (insn_ends_flow(&f->in[i]))
			break;
	}
	r->no_disable_nx |= nx && !rec_find(r, "kvm.arch.disable_nx_huge_pages");
}

/* write_lock(&kvm->mmu_lock) first thing: an rwlock on x86's TDP MMU,
 * a spinlock before (5.10: spin_lock). */
static void rule_mmu_lock(struct rec *r, const struct rfn *f)
{
	for (size_t i = 0; i < f->n; i++) {
		bool rw = callee_is(r, &f->in[i], "_raw_write_lock") || callee_is(r, &f->in[i], "_raw_read_lock");
		bool spin = callee_is(r, &f->in[i], "_raw_spin_lock");
		if (!rw && !spin)
			continue;
		struct origin o = rec_origin(r, f, i, 7);
		if (origin_is_arg(o, 0))
			rec_put(r, "kvm.mmu_lock", o.off, 0, 0, spin ? 4 : 8, spin ? K_SPINLOCK : K_RWLOCK, f->name);
		return;
	}
}

/* kvm_set_memory_region: mutex_lock(&kvm->slots_lock);
 * __kvm_set_memory_region(kvm, mem); */
static void rule_slots_lock(struct rec *r, const struct rfn *f)
{
	for (size_t i = 0; i < f->n; i++) {
		if (!callee_is(r, &f->in[i], "mutex_lock"))
			continue;
		struct origin o = rec_origin(r, f, i, 7);
		for (size_t k = i + 1; k < f->n && k < i + 5; k++)
			if (callee_is(r, &f->in[k], "__kvm_set_memory_region") && origin_is_arg(o, 0))
				rec_put(r, "kvm.slots_lock", o.off, 0, 0, 32, K_MUTEX, f->name);
		return;
	}
}

/* kvm_vm_ioctl_(un)register_coalesced_mmio(kvm, zone): the one mutex they
 * take is mutex_lock(&kvm->slots_lock) (and where kvm_set_memory_region
 * inlines its callee, as on 7.x, these are what still show it). */
static void rule_slots_lock_first(struct rec *r, const struct rfn *f)
{
	for (size_t i = 0; i < f->n; i++) {
		if (!callee_is(r, &f->in[i], "mutex_lock"))
			continue;
		struct origin o = rec_origin(r, f, i, 7);
		if (origin_is_arg(o, 0) && o.off > 0)
			rec_put(r, "kvm.slots_lock", o.off, 0, 0, 32, K_MUTEX, f->name);
		return;
	}
}

/* kvm_mmu_invalidate_end(kvm): ...; kvm->mmu_invalidate_in_progress--, in
 * memory (sub [kvm + off], 1) or through a register. */
static void rule_invalidate_end(struct rec *r, const struct rfn *f)
{
	for (size_t i = 0; i < f->n; i++) {
		int64_t off, off2;
		const cs_insn *in = &f->in[i];
		if (is_op(in, X86_INS_SUB, 2, X86_OP_MEM, X86_OP_IMM) && op_size(in, 0) == 8 &&
		    op_imm(in, 1) == 1 && mem_from_arg(r, f, i, 0, &off)) {
			rec_put(r, "kvm.mmu_invalidate_in_progress", off, 0, 0, 8, K_INT, f->name);
			return;
		}
		if (i + 2 < f->n && is_op(in, X86_INS_MOV, 2, X86_OP_REG, X86_OP_MEM) && op_size(in, 0) == 8 &&
		    mem_from_arg(r, f, i, 0, &off) && is_op(&f->in[i + 1], X86_INS_SUB, 2, X86_OP_REG, X86_OP_IMM) &&
		    op_fam(&f->in[i + 1], 0) == op_fam(in, 0) && op_imm(&f->in[i + 1], 1) == 1 &&
		    is_op(&f->in[i + 2], X86_INS_MOV, 2, X86_OP_MEM, X86_OP_REG) &&
		    op_fam(&f->in[i + 2], 1) == op_fam(in, 0) && mem_from_arg(r, f, i + 2, 0, &off2) &&
		    off2 == off) {
			rec_put(r, "kvm.mmu_invalidate_in_progress", off, 0, 0, 8, K_INT, f->name);
			return;
		}
	}
}

/* kvm_mmu_invalidate_begin(kvm[, start, end]): in_progress++, and the range
 * from the arguments (there, or in kvm_mmu_invalidate_range_add from 6.8,
 * whose ranges are gfns); kvm_mmu_invalidate_start where the code has that
 * name instead (7.x). */
static void rule_invalidate(struct rec *r, const struct rfn *f)
{
	for (size_t i = 0; i + 2 < f->n; i++) {
		int64_t off, off2;
		const cs_insn *in = &f->in[i];
		if (is_op(in, X86_INS_MOV, 2, X86_OP_REG, X86_OP_MEM) && op_size(in, 0) == 8 &&
		    mem_from_arg(r, f, i, 0, &off) && is_op(&f->in[i + 1], X86_INS_ADD, 2, X86_OP_REG, X86_OP_IMM) &&
		    op_imm(&f->in[i + 1], 1) == 1 && is_op(&f->in[i + 2], X86_INS_MOV, 2, X86_OP_MEM, X86_OP_REG) &&
		    mem_from_arg(r, f, i + 2, 0, &off2) && off2 == off)
			rec_put(r, "kvm.mmu_invalidate_in_progress", off, 0, 0, 8, K_INT, f->name);
		if (is_op(in, X86_INS_MOV, 2, X86_OP_MEM, X86_OP_REG) && op_size(in, 0) == 8 &&
		    mem_from_arg(r, f, i, 0, &off)) {
			struct origin v = rec_origin(r, f, i, op_fam(in, 1));
			if (origin_is_arg(v, 1) && !v.off)
				rec_put(r, "kvm.mmu_invalidate_range_start", off, 0, 0, 8, K_INT, f->name);
			if (origin_is_arg(v, 2) && !v.off)
				rec_put(r, "kvm.mmu_invalidate_range_end", off, 0, 0, 8, K_INT, f->name);
			if ((origin_is_arg(v, 1) || origin_is_arg(v, 2)) && strstr(f->name, "range_add"))
				r->R->inval_gfn = 1;
		}
	}
	if (r->R->inval_gfn < 0 && !strstr(f->name, "range_add") && rec_find(r, "kvm.mmu_invalidate_range_start"))
		r->R->inval_gfn = 0;
}

/* kvm_commit_memory_region: atomic_set(&kvm->nr_memslots_dirty_logging,
 * ... + change) just before kvm_arch_commit_memory_region(). */
static void rule_nr_logging(struct rec *r, const struct rfn *f)
{
	for (size_t i = 0; i < f->n; i++) {
		int64_t off, off2;
		const cs_insn *in = &f->in[i];
		if (!is_op(in, X86_INS_MOV, 2, X86_OP_REG, X86_OP_MEM) || op_size(in, 0) != 4 ||
		    !mem_from_arg(r, f, i, 0, &off))
			continue;
		bool added = false;
		for (size_t k = i + 1; k < f->n && k < i + 8; k++) {
			const cs_insn *a = &f->in[k];
			if (is_op(a, X86_INS_ADD, 2, X86_OP_REG, 0) && op_fam(a, 0) == op_fam(in, 0))
				added = true;
			if (added && is_op(a, X86_INS_MOV, 2, X86_OP_MEM, X86_OP_REG) && op_size(a, 0) == 4 &&
			    op_fam(a, 1) == op_fam(in, 0) && mem_from_arg(r, f, k, 0, &off2) && off2 == off) {
				for (size_t c = k + 1; c < f->n && c < k + 4; c++)
					if (callee_is(r, &f->in[c], "kvm_arch_commit_memory_region"))
						rec_put(r, "kvm.nr_memslots_dirty_logging.counter", off, 0, 0, 4,
							K_SINT, f->name);
				break;
			}
		}
	}
}

/* update_gfn_disallow_lpage_count(slot, gfn, count): for each huge level,
 * slot->arch.lpage_info[level - 2][index].disallow_lpage += count. */
static void rule_lpage_info(struct rec *r, const struct rfn *f)
{
	int64_t lo = -1, hi = -1;
	int scale = 0, n = 0;
	for (size_t i = 0; i + 1 < f->n; i++) {
		int64_t off;
		const cs_insn *in = &f->in[i], *l = &f->in[i + 1];
		const cs_x86_op *m = rec_mem(l, NULL);
		if (!is_op(in, X86_INS_MOV, 2, X86_OP_REG, X86_OP_MEM) || op_size(in, 0) != 8 ||
		    !mem_from_arg(r, f, i, 0, &off) || l->id != X86_INS_LEA || !m ||
		    reg_fam(m->mem.base) != op_fam(in, 0) || m->mem.index == X86_REG_INVALID)
			continue;
		if (scale && scale != m->mem.scale)
			return;
		scale = m->mem.scale;
		if (lo < 0 || off < lo)
			lo = off;
		if (off > hi)
			hi = off;
		n++;
	}
	if (n < 1 || n > 4 || hi - lo != 8 * (n - 1) || scale < 4)
		return;
	rec_put(r, "kvm_memory_slot.arch.lpage_info", lo, 0, 0, (uint32_t)(8 * n), K_PTRARRAY, f->name);
	struct recover_item *it = rec_find(r, "kvm_memory_slot.arch.lpage_info");
	if (it)
		it->count = (uint32_t)n;
	rec_put(r, "kvm_lpage_info.disallow_lpage", 0, 0, 0, (uint32_t)scale, K_SINT, f->name);
}

/* kvm_slot_page_track_is_active / kvm_gfn_is_write_tracked(kvm, slot, gfn):
 * slot->arch.gfn_[write_]track[index] (u16 counts). */
static void rule_write_track(struct rec *r, const struct rfn *f)
{
	const char *path = strstr(f->name, "write_tracked") ? "kvm_memory_slot.arch.gfn_write_track"
							    : "kvm_memory_slot.arch.gfn_track";
	for (size_t i = 0; i < f->n; i++) {
		int64_t off;
		const cs_insn *in = &f->in[i];
		if (!is_op(in, X86_INS_MOV, 2, X86_OP_REG, X86_OP_MEM) || op_size(in, 0) != 8 ||
		    !mem_from_arg(r, f, i, 1, &off))
			continue;
		for (size_t k = i + 1; k < f->n && k < i + 6; k++) {
			const cs_x86_op *m = rec_mem(&f->in[k], NULL);
			if (f->in[k].id == X86_INS_LEA && m && reg_fam(m->mem.base) == op_fam(in, 0) &&
			    m->mem.scale == 2 && rec_def(r, f, k, op_fam(in, 0)) == (long)i) {
				rec_put(r, path, off, 0, 0, 8, K_PTR, f->name);
				return;
			}
		}
	}
}

/* kvm_dirty_ring_push(ring or vcpu, slot, offset): entry =
 * &ring->dirty_gfns[ring->dirty_index & (ring->size - 1)]; entry->slot,
 * entry->offset; ring->dirty_index++; full when dirty - reset >= size.
 * trace_kvm_dirty_ring_push(ring, ...) names the ring's address. */
static void rule_dirty_ring(struct rec *r, const struct rfn *f)
{
	int64_t base = -1;
	for (size_t i = 0; i < f->n && base < 0; i++)
		if (callee_is(r, &f->in[i], "__traceiter_kvm_dirty_ring_push")) {
			struct origin o = rec_origin(r, f, i, 6);
			if (origin_is_arg(o, 0))
				base = o.off;
		}
	if (base < 0)
		return;
	if (base > 0)
		rec_put(r, "kvm_vcpu.dirty_ring", base, 0, 0, 32, K_BLOB, f->name);
	for (size_t i = 0; i + 1 < f->n; i++) {
		int64_t off;
		const cs_insn *in = &f->in[i];
		if (!rec_mem(in, NULL) || !mem_from_arg(r, f, i, 0, &off) || off < base)
			continue;
		off -= base;
		if (is_op(in, X86_INS_ADD, 2, X86_OP_MEM, X86_OP_IMM) && op_size(in, 0) == 4 && op_imm(in, 1) == 1)
			rec_put(r, "kvm_dirty_ring.dirty_index", off, 0, 0, 4, K_INT, f->name);
		else if (is_op(in, X86_INS_MOV, 2, X86_OP_REG, X86_OP_MEM) && op_size(in, 0) == 4 &&
			 !rec_find(r, "kvm_dirty_ring.size")) {
			/* size - 1 masks the index */
			for (size_t k = i + 1; k < f->n && k < i + 8; k++) {
				const cs_insn *sb = &f->in[k];
				if (is_op(sb, X86_INS_SUB, 2, X86_OP_REG, X86_OP_IMM) && op_imm(sb, 1) == 1 &&
				    op_fam(sb, 0) == op_fam(in, 0) && rec_def(r, f, k, op_fam(in, 0)) == (long)i) {
					rec_put(r, "kvm_dirty_ring.size", off, 0, 0, 4, K_INT, f->name);
					break;
				}
			}
		}
		else if (is_op(in, X86_INS_ADD, 2, X86_OP_REG, X86_OP_MEM) && op_size(in, 0) == 8 && i > 0 &&
			 is_op(&f->in[i - 1], X86_INS_SHL, 2, X86_OP_REG, X86_OP_IMM) &&
			 op_imm(&f->in[i - 1], 1) >= 3 && op_imm(&f->in[i - 1], 1) <= 6) {
			rec_put(r, "kvm_dirty_ring.dirty_gfns", off, 0, 0, 8, K_PTR, f->name);
			uint32_t esz = 1u << op_imm(&f->in[i - 1], 1);
			/* the entry's fields, stored through the computed pointer */
			for (size_t k = i + 1; k < f->n && k < i + 6; k++) {
				const cs_insn *st = &f->in[k];
				const cs_x86_op *m = rec_mem(st, NULL);
				if (!is_op(st, X86_INS_MOV, 2, X86_OP_MEM, X86_OP_REG) || !mem_plain(m) ||
				    reg_fam(m->mem.base) != op_fam(in, 0) || (uint32_t)m->mem.disp >= esz)
					continue;
				struct origin v = rec_origin(r, f, k, op_fam(st, 1));
				if (origin_is_arg(v, 1) && op_size(st, 0) == 4)
					rec_put(r, "kvm_dirty_gfn.slot", m->mem.disp, 0, 0, 4, K_INT, f->name);
				if (origin_is_arg(v, 2) && op_size(st, 0) == 8)
					rec_put(r, "kvm_dirty_gfn.offset", m->mem.disp, 0, 0, 8, K_INT, f->name);
			}
		}
	}
	/* reset_index: subtracted from dirty_index in the fullness test */
	uint64_t dirty;
	if (!rec_get(r, "kvm_dirty_ring.dirty_index", &dirty))
		return;
	for (size_t i = 0; i < f->n; i++) {
		const cs_insn *in = &f->in[i];
		if (!is_op(in, X86_INS_SUB, 2, X86_OP_REG, X86_OP_REG))
			continue;
		long a = rec_def(r, f, i, op_fam(in, 0)), b = rec_def(r, f, i, op_fam(in, 1));
		int64_t oa, ob;
		if (a >= 0 && b >= 0 && rec_mem(&f->in[a], NULL) && rec_mem(&f->in[b], NULL) &&
		    mem_from_arg(r, f, (size_t)a, 0, &oa) && mem_from_arg(r, f, (size_t)b, 0, &ob) &&
		    oa - base == (int64_t)dirty) {
			rec_put(r, "kvm_dirty_ring.reset_index", ob - base, 0, 0, 4, K_INT, f->name);
			return;
		}
	}
}

/* mark_page_dirty_in_slot, when the ring push takes the ring:
 * kvm_dirty_ring_push(&vcpu->dirty_ring, ...). */
static void rule_vcpu_ring(struct rec *r, const struct rfn *f)
{
	for (size_t i = 0; i < f->n; i++) {
		if (!callee_is(r, &f->in[i], "kvm_dirty_ring_push"))
			continue;
		long d = rec_def(r, f, i, 7);
		const cs_x86_op *m = d >= 0 ? rec_mem(&f->in[d], NULL) : NULL;
		if (d >= 0 && f->in[d].id == X86_INS_LEA && mem_plain(m) && m->mem.disp > 0)
			rec_put(r, "kvm_vcpu.dirty_ring", m->mem.disp, 0, 0, 32, K_BLOB, f->name);
		return;
	}
}

/* ---- the rule set -------------------------------------------------------- */

/* Order matters where a rule uses an earlier result (online_vcpus before
 * vcpu_idx, link and role.word before the role bits). */
static const struct rec_rule rules[] = {
	{ "kvm", "vm_stat_clear", rule_vm_list },
	{ "kvm", "vcpu_stat_clear", rule_vm_list },
	{ "kvm", "kvm_vm_ioctl", rule_mm },
	{ "kvm", "kvm_vcpu_ioctl", rule_mm },
	{ "kvm", "kvm_uevent_notify_change", rule_userspace_pid },
	{ "kvm", "kvm_vcpu_on_spin", rule_vcpu_array },
	{ "kvm", "kvm_make_all_cpus_request", rule_vcpu_array },
	{ "kvm", "kvm_vm_ioctl", rule_vcpu_ids },
	{ "kvm", "kvm_vcpu_kick", rule_vcpu_mode },
	{ "kvm", "kvm_arch_vcpu_should_kick", rule_vcpu_mode },
	{ "kvm", "kvm_mmu_load", rule_vcpu_mmu },
	{ "kvm", "kvm_mmu_free_roots", rule_root_hpa },
	{ "kvm", "kvm_mmu_init_tdp_mmu", rule_init_tdp_mmu },
	{ "kvm", "gfn_to_memslot", rule_memslots },
	{ "kvm", "gfn_to_hva_memslot", rule_gfn_to_hva },
	{ "kvm", "mark_page_dirty_in_slot", rule_mark_dirty },
	{ "kvm", "kvm_vm_ioctl", rule_vm_ioctl },
	{ "kvm", "tdp_mmu_init_sp", rule_init_sp },
	{ "kvm", "tdp_iter_start", rule_iter_start },
	{ "kvm", "make_spte", rule_make_spte },
	{ "kvm", "kvm_tdp_mmu_put_root", rule_put_root },
	{ "kvm", "kvm_tdp_mmu_get_vcpu_root_hpa", rule_root_refcount },
	{ "kvm", "kvm_tdp_mmu_alloc_root", rule_root_refcount },
	{ "kvm", "kvm_tdp_mmu_invalidate_all_roots", rule_invalidate_roots },
	{ "kvm", "kvm_tdp_mmu_invalidate_roots", rule_invalidate_roots },
	/* what `check` reads besides the walk */
	{ "kvm", "make_spte", rule_make_spte_globals },
	{ "kvm", "is_nx_huge_page_enabled", rule_nx_enabled },
	{ "kvm", "kvm_mmu_zap_all", rule_mmu_lock },
	{ "kvm", "kvm_arch_flush_shadow_all", rule_mmu_lock },
	{ "kvm", "kvm_set_memory_region", rule_slots_lock },
	{ "kvm", "kvm_vm_ioctl_register_coalesced_mmio", rule_slots_lock_first },
	{ "kvm", "kvm_vm_ioctl_unregister_coalesced_mmio", rule_slots_lock_first },
	{ "kvm", "kvm_mmu_invalidate_begin", rule_invalidate },
	{ "kvm", "kvm_mmu_invalidate_start", rule_invalidate },
	{ "kvm", "kvm_mmu_invalidate_end", rule_invalidate_end },
	{ "kvm", "kvm_mmu_invalidate_range_add", rule_invalidate },
	{ "kvm", "kvm_set_memslot", rule_nr_logging },
	{ "kvm", "update_gfn_disallow_lpage_count", rule_lpage_info },
	{ "kvm", "kvm_slot_page_track_is_active", rule_write_track },
	{ "kvm", "kvm_gfn_is_write_tracked", rule_write_track },
	{ "kvm", "kvm_dirty_ring_push", rule_dirty_ring },
	{ "kvm", "mark_page_dirty_in_slot", rule_vcpu_ring },
	/* the array era (before 5.17) and 5.10's TDP MMU: what the functions
	 * above do not reveal there */
	{ "kvm", "kvm_vm_ioctl", rule_vcpus_array },
	{ "kvm", "kvm_vcpu_on_spin", rule_vcpus_array },
	{ "kvm", "kvm_make_vcpus_request_mask", rule_vcpus_array },
	{ "kvm", "kvm_vm_ioctl", rule_vcpu_idx_sx },
	{ "kvm", "kvm_arch_vcpu_should_kick", rule_vcpu_mode_cmpxchg },
	{ "kvm", "__kvm_set_memory_region", rule_slot_array_end },
	{ "kvm", "__kvm_set_memory_region", rule_id_to_memslot },
	{ "kvm", "alloc_tdp_mmu_page", rule_alloc_tdp_page },
	{ "kvm", "kvm_tdp_mmu_free_root", rule_free_root },
	{ "kvm", "kvm_tdp_mmu_get_vcpu_root_hpa", rule_vcpu_root_510 },
	{ "kvm", "kvm_tdp_mmu_write_protect_gfn", rule_root_as_id },
	{ "kvm", "kvm_tdp_mmu_clear_dirty_pt_masked", rule_root_as_id },
	{ "kvm", "mmu_free_root_page", rule_free_root_page },
	{ "kvm", "set_spte", rule_set_spte_ad },
	{ "kvm", "mmu_page_zap_pte", rule_zap_pte_guest_mode },
};

/* What kvm.c cannot do without, for the report. */
/* "a|b": either (the containers and counts of two eras). */
static const char *const wanted[] = {
	"kvm.vm_list", "kvm.userspace_pid", "kvm.mm", "kvm.online_vcpus", "kvm.arch.tdp_mmu_roots",
	"kvm.memslots", "kvm.vcpu_array|kvm.vcpus", "kvm.manual_dirty_log_protect", "kvm.dirty_ring_size",
	"kvm_memslots.gfn_tree|kvm_memslots.used_slots", "kvm_memslots.node_idx|kvm_memslots.memslots",
	"kvm_memory_slot.gfn_node|kvm_memslots.memslots",
	"kvm_memory_slot.base_gfn", "kvm_memory_slot.npages", "kvm_memory_slot.dirty_bitmap",
	"kvm_memory_slot.userspace_addr", "kvm_memory_slot.flags", "kvm_memory_slot.id",
	"kvm_memory_slot.as_id", "kvm_mmu_page.link", "kvm_mmu_page.role.word",
	"kvm_mmu_page.role.level", "kvm_mmu_page.role.smm", "kvm_mmu_page.role.invalid",
	"kvm_mmu_page.role.guest_mode", "kvm_mmu_page.role.ad_disabled", "kvm_mmu_page.gfn",
	"kvm_mmu_page.spt", "kvm_mmu_page.tdp_mmu_root_count.refs.counter|kvm_mmu_page.root_count",
	"kvm_vcpu.vcpu_id",
	"kvm_vcpu.vcpu_idx", "kvm_vcpu.mode", "kvm_vcpu.arch.mmu", "kvm_mmu.root.hpa",
	/* for check */
	"kvm.mmu_lock", "kvm.slots_lock", "kvm.mmu_invalidate_in_progress",
	"kvm.mmu_invalidate_range_start", "kvm.mmu_invalidate_range_end",
	"kvm.arch.disable_nx_huge_pages", "kvm_vcpu.dirty_ring", "kvm_dirty_ring.dirty_gfns",
	"kvm_dirty_ring.reset_index", "kvm_dirty_ring.dirty_index", "kvm_dirty_ring.size",
	"kvm_dirty_gfn.slot", "kvm_dirty_gfn.offset", "kvm_memory_slot.arch.lpage_info",
	"kvm_lpage_info.disallow_lpage", "kvm_x86_ops.cpu_dirty_log_size",
};

const struct rec_ruleset rec_kvm_rules = { rules, REC_COUNT(rules), wanted, REC_COUNT(wanted) };
