/* Rules for the shadow MMU's members (kvm_mmu_page bookkeeping, the vCPU's
 * three MMUs and their cached roots, the rmaps' struct pte_list_desc), for
 * kernels without module BTF (5.10, or 6.x whose module BTF is missing or
 * damaged), where machine code is the only source: 5.10's functions and
 * 6.x's each have their rules.  Each rule records only what its function's code
 * shows, so another era's code that does not match leaves the member
 * absent and shadow.c says the shadow MMU is not analysed. */

#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rec.h"

/* kvm_mmu_zap_all_fast(kvm): kvm->arch.mmu_valid_gen = gen ? 0 : 1
 * (cmp [kvm+G], 0; sete [kvm+G]); the reverse walk of active_mmu_pages
 * (lea of the head, a load of its prev at +8); is_obsolete_sp() compares
 * sp->mmu_valid_gen with the VM's; the zapped pages go to
 * &kvm->arch.zapped_obsolete_pages (3rd argument of
 * __kvm_mmu_prepare_zap_page). */
static void rule_zap_all_fast(struct rec *r, const struct rfn *f)
{
	int64_t gen = -1;
	uint64_t link = 0;
	bool have_link = rec_get(r, "kvm_mmu_page.link", &link);
	for (size_t i = 0; i + 1 < f->n && gen < 0; i++) {
		int64_t off;
		if (!is_op(&f->in[i], X86_INS_CMP, 2, X86_OP_MEM, X86_OP_IMM) || op_imm(&f->in[i], 1) != 0 ||
		    !mem_from_arg(r, f, i, 0, &off))
			continue;
		for (size_t k = i + 1; k < f->n && k <= i + 4; k++) {
			int64_t o2;
			if (f->in[k].id == X86_INS_SETE && is_op(&f->in[k], X86_INS_SETE, 1, X86_OP_MEM, 0) &&
			    mem_from_arg(r, f, k, 0, &o2) && o2 == off) {
				gen = off;
				rec_put(r, "kvm.arch.mmu_valid_gen", off, 0, 0, op_size(&f->in[i], 0), K_INT,
					f->name);
			}
		}
	}
	for (size_t i = 0; i < f->n; i++) {
		const cs_insn *in = &f->in[i];
		int64_t off, o2;
		/* lea R, [kvm + A] and a load of [kvm + A + 8]: the list walked backwards */
		if (is_op(in, X86_INS_LEA, 2, X86_OP_REG, X86_OP_MEM) && mem_from_arg(r, f, i, 0, &off)) {
			for (size_t k = 0; k < f->n; k++)
				if (is_op(&f->in[k], X86_INS_MOV, 2, X86_OP_REG, X86_OP_MEM) &&
				    op_size(&f->in[k], 0) == 8 && mem_from_arg(r, f, k, 0, &o2) && o2 == off + 8) {
					rec_put(r, "kvm.arch.active_mmu_pages", off, 0, 0, 16, K_LIST, f->name);
					break;
				}
		}
		if (callee_is(r, in, "__kvm_mmu_prepare_zap_page")) {
			struct origin o = rec_origin(r, f, i, 2);
			if (origin_is_arg(o, 0))
				rec_put(r, "kvm.arch.zapped_obsolete_pages", o.off, 0, 0, 16, K_LIST, f->name);
		}
		/* movzx E, byte [kvm + gen]; cmp byte [sp + d], E8 */
		if (gen >= 0 && have_link && is_op(in, X86_INS_CMP, 2, X86_OP_MEM, X86_OP_REG) &&
		    op_size(in, 0) == 1) {
			const cs_x86_op *m = rec_mem(in, NULL);
			struct origin src = rec_origin(r, f, i, op_fam(in, 1));
			if (!mem_plain(m) || src.kind != O_INSN || !mem_from_arg(r, f, (size_t)src.insn, 0, &o2) ||
			    o2 != gen || mem_from_arg(r, f, i, 0, &off))
				continue;
			rec_put(r, "kvm_mmu_page.mmu_valid_gen", m->mem.disp + (int64_t)link, 0, 0, 1, K_INT,
				f->name);
		}
	}
}

/* kvm_mmu_create(vcpu): vcpu->arch.mmu = vcpu->arch.walk_mmu =
 * &vcpu->arch.root_mmu; the MMUs are allocated by passing their address
 * (guest_mmu first) to __kvm_mmu_create / alloc_mmu_pages. */
static void rule_mmu_create(struct rec *r, const struct rfn *f)
{
	uint64_t mmu;
	if (!rec_get(r, "kvm_vcpu.arch.mmu", &mmu))
		return;
	int64_t root = -1;
	for (size_t i = 0; i < f->n && root < 0; i++) {
		int64_t off, x;
		if (!is_op(&f->in[i], X86_INS_MOV, 2, X86_OP_MEM, X86_OP_REG) || op_size(&f->in[i], 0) != 8 ||
		    !mem_from_arg(r, f, i, 0, &off) || off != (int64_t)mmu)
			continue;
		struct origin o = rec_origin(r, f, i, op_fam(&f->in[i], 1));
		if (!origin_is_arg(o, 0) || o.off <= 0)
			continue;
		x = o.off;
		/* the same address stored once more: walk_mmu */
		for (size_t k = 0; k < f->n; k++) {
			int64_t w;
			if (k == i || !is_op(&f->in[k], X86_INS_MOV, 2, X86_OP_MEM, X86_OP_REG) ||
			    op_size(&f->in[k], 0) != 8 || !mem_from_arg(r, f, k, 0, &w) || w == (int64_t)mmu)
				continue;
			struct origin o2 = rec_origin(r, f, k, op_fam(&f->in[k], 1));
			if (origin_is_arg(o2, 0) && o2.off == x) {
				root = x;
				rec_put(r, "kvm_vcpu.arch.root_mmu", x, 0, 0, 8, K_BLOB, f->name);
				rec_put(r, "kvm_vcpu.arch.walk_mmu", w, 0, 0, 8, K_PTR, f->name);
				break;
			}
		}
	}
	if (root < 0)
		return;
	for (size_t i = 0; i < f->n; i++) {
		if (!callee_is(r, &f->in[i], "__kvm_mmu_create") && !callee_is(r, &f->in[i], "alloc_mmu_pages"))
			continue;
		struct origin o = rec_origin(r, f, i, 6);
		if (origin_is_arg(o, 0) && o.off > 0 && o.off != root) {
			rec_put(r, "kvm_vcpu.arch.guest_mmu", o.off, 0, 0, 8, K_BLOB, f->name);
			break;
		}
	}
}

/* kvm_init_mmu(vcpu, reset_roots): mmu_is_nested() compares walk_mmu with
 * &vcpu->arch.nested_mmu; resetting the roots stores INVALID_PAGE in
 * mmu->root_hpa and in both words of every prev_roots[i] (pgd, hpa). */
static void rule_init_mmu(struct rec *r, const struct rfn *f)
{
	uint64_t walk, mmu, hpa;
	if (rec_get(r, "kvm_vcpu.arch.walk_mmu", &walk))
		for (size_t i = 0; i < f->n; i++) {
			int64_t off;
			/* cmp R, [walk] (5.10) or cmp [walk], R (6.x) */
			int ro = is_op(&f->in[i], X86_INS_CMP, 2, X86_OP_REG, X86_OP_MEM) ? 0 :
				 is_op(&f->in[i], X86_INS_CMP, 2, X86_OP_MEM, X86_OP_REG) ? 1 : -1;
			if (ro < 0 || !mem_from_arg(r, f, i, 0, &off) || off != (int64_t)walk)
				continue;
			struct origin o = rec_origin(r, f, i, op_fam(&f->in[i], ro));
			if (origin_is_arg(o, 0) && o.off > 0)
				rec_put(r, "kvm_vcpu.arch.nested_mmu", o.off, 0, 0, 8, K_BLOB, f->name);
		}
	if (!rec_get(r, "kvm_vcpu.arch.mmu", &mmu) || !rec_get(r, "kvm_mmu.root.hpa", &hpa))
		return;
	/* INVALID_PAGE stores through vcpu->arch.mmu, root_hpa excluded */
	uint64_t seen = 0; /* bit k: mmu + hpa + 8 + 8k stored */
	for (size_t i = 0; i < f->n; i++) {
		const cs_insn *in = &f->in[i];
		if (!is_op(in, X86_INS_MOV, 2, X86_OP_MEM, X86_OP_IMM) || op_imm(in, 1) != -1 ||
		    op_size(in, 0) != 8)
			continue;
		const cs_x86_op *m = rec_mem(in, NULL);
		if (!mem_plain(m))
			continue;
		struct origin o = rec_origin(r, f, i, reg_fam(m->mem.base));
		int64_t from;
		if (o.kind != O_INSN || o.off || !mem_from_arg(r, f, (size_t)o.insn, 0, &from) ||
		    from != (int64_t)mmu || !is_op(&f->in[o.insn], X86_INS_MOV, 2, X86_OP_REG, X86_OP_MEM))
			continue;
		int64_t d = m->mem.disp - (int64_t)hpa;
		if (d > 0 && d % 8 == 0 && d / 8 <= 32)
			seen |= 1ull << (d / 8 - 1);
	}
	/* a run of pairs right after the root: {pgd, hpa} x N, not at +8
	 * (root_pgd, never INVALID_PAGE) */
	int lo = -1, n = 0;
	for (int k = 0; k < 32; k++)
		if (seen & (1ull << k)) {
			if (lo < 0)
				lo = k;
			else if (k != lo + n)
				return; /* not one run */
			n++;
		}
	if (lo < 1 || n < 2 || n % 2 || n / 2 > 4)
		return;
	int64_t base = (int64_t)hpa + 8 + 8 * lo;
	rec_put(r, "kvm_mmu.prev_roots", base, 0, 0, (uint32_t)(8 * n), K_ROOTARRAY, f->name);
	struct recover_item *it = rec_find(r, "kvm_mmu.prev_roots");
	if (it && !it->conflict) {
		it->count = (uint32_t)n / 2;
		it->stride = 16;
	}
}

/* kvm_mmu_free_roots(vcpu or kvm, mmu, ...): mmu->root_hpa = INVALID_PAGE;
 * mmu->root_pgd = 0 right after it (an adjacent qword). */
static void rule_free_roots_pgd(struct rec *r, const struct rfn *f)
{
	uint64_t hpa;
	if (!rec_get(r, "kvm_mmu.root.hpa", &hpa))
		return;
	for (size_t i = 0; i + 1 < f->n; i++) {
		int64_t a, b;
		if (!is_op(&f->in[i], X86_INS_MOV, 2, X86_OP_MEM, X86_OP_IMM) || op_imm(&f->in[i], 1) != -1 ||
		    !mem_from_arg(r, f, i, 1, &a) || a != (int64_t)hpa)
			continue;
		const cs_insn *n = &f->in[i + 1];
		/* the qword next to it: after root_hpa (5.10), before root.hpa
		 * in struct kvm_mmu_root_info root (6.x) */
		if (is_op(n, X86_INS_MOV, 2, X86_OP_MEM, X86_OP_IMM) && op_imm(n, 1) == 0 && op_size(n, 0) == 8 &&
		    mem_from_arg(r, f, i + 1, 1, &b) && (b == a + 8 || b == a - 8))
			rec_put(r, "kvm_mmu.root.pgd", b, 0, 0, 8, K_INT, f->name);
	}
}

/* The base register of instruction I's plain memory operand, or -1. */
static int mem_base(const cs_insn *in, int64_t *disp)
{
	const cs_x86_op *m = rec_mem(in, NULL);
	if (!mem_plain(m))
		return -1;
	*disp = m->mem.disp;
	return reg_fam(m->mem.base);
}

/* Whether instruction I loads a kvm_rmap_head's value (rmap_get_first or
 * for_each_rmap_spte inlined): a qword load whose register, or a copy, has
 * its desc tag tested (test X, 1) and cleared (and X, -2; -4 where bit 1
 * is the rmap lock, 6.13+) within a few instructions. */
static bool rmap_head_load(const struct rec *r, const struct rfn *f, size_t i)
{
	const cs_insn *in = &f->in[i];
	if (!is_op(in, X86_INS_MOV, 2, X86_OP_REG, X86_OP_MEM) || op_size(in, 0) != 8)
		return false;
	int x = op_fam(in, 0);
	bool tst = false, clr = false;
	for (size_t k = i + 1; k < f->n && k <= i + 8; k++) {
		const cs_insn *t = &f->in[k];
		if (is_op(t, X86_INS_TEST, 2, X86_OP_REG, X86_OP_IMM) && op_fam(t, 0) == x && op_imm(t, 1) == 1)
			tst = true;
		else if (is_op(t, X86_INS_AND, 2, X86_OP_REG, X86_OP_IMM) && op_fam(t, 0) == x &&
			 (op_imm(t, 1) == -2 || op_imm(t, 1) == -4))
			clr = true;
		else if (t->id != X86_INS_TEST && !(t->id >= X86_INS_JAE && t->id <= X86_INS_JS) &&
			 insn_writes(r, t, x))
			break;
	}
	return tst && clr;
}

/* The bookkeeping of the page the unsync_children increment at I goes
 * through (register BASE, defined by DEF), in mark_unsync:
 * __test_and_set_bit(spte's index, sp->unsync_child_bitmap) is a bts into
 * [sp + B] whose index is (spte - sp->spt) >> 3, a slot of a 4 KiB table:
 * 512 bits; kvm_mmu_mark_parents_unsync(sp), inlined, walks
 * &sp->parent_ptes with rmap_get_first (lea of [sp + P] as its first
 * argument). */
static void mark_unsync_sp(struct rec *r, const struct rfn *f, int base, long def)
{
	uint64_t spt;
	bool have_spt = rec_get(r, "kvm_mmu_page.spt", &spt), idx_ok = false;
	int64_t bitmap = -1;
	for (size_t i = 0; i < f->n; i++) {
		const cs_insn *in = &f->in[i];
		int64_t d;
		if (mem_base(in, &d) != base || rec_def(r, f, i, base) != def)
			continue;
		/* sub R, [sp + spt]: the index is the spte's place in sp's table */
		if (have_spt && in->id == X86_INS_SUB && is_op(in, X86_INS_SUB, 2, X86_OP_REG, X86_OP_MEM) &&
		    d == (int64_t)spt)
			idx_ok = true;
		if (is_op(in, X86_INS_BTS, 2, X86_OP_MEM, X86_OP_REG) && op_size(in, 0) == 8) {
			bitmap = d;
			/* 6.x: the index is (spte >> 3) & 511, the slot in its table */
			long ix = rec_def(r, f, i, op_fam(in, 1));
			if (ix >= 0 && is_op(&f->in[ix], X86_INS_AND, 2, X86_OP_REG, X86_OP_IMM) &&
			    op_imm(&f->in[ix], 1) == 511)
				idx_ok = true;
		}
		/* 6.x: rmap_get_first inlined */
		if (rmap_head_load(r, f, i))
			rec_put(r, "kvm_mmu_page.parent_ptes.val", d, 0, 0, 8, K_INT, f->name);
		if (is_op(in, X86_INS_LEA, 2, X86_OP_REG, X86_OP_MEM) && op_fam(in, 0) == 7) {
			for (size_t k = i + 1; k < f->n && k <= i + 3; k++) {
				if (callee_is(r, &f->in[k], "rmap_get_first")) {
					rec_put(r, "kvm_mmu_page.parent_ptes.val", d, 0, 0, 8, K_INT, f->name);
					break;
				}
				if (insn_writes(r, &f->in[k], 7))
					break;
			}
		}
	}
	if (bitmap >= 0 && idx_ok)
		rec_put(r, "kvm_mmu_page.unsync_child_bitmap", bitmap, 0, 0, 64, K_LONGS, f->name);
	struct recover_item *it = rec_find(r, "kvm_mmu_page.unsync_child_bitmap");
	if (it && !it->conflict)
		it->count = 8;
}

/* mark_unsync(spte): sp = page->private of the table; if
 * (__test_and_set_bit(index, sp->unsync_child_bitmap)) return;
 * if (sp->unsync_children++) return: a dword load of [sp + U] whose value
 * plus one is stored back there. */
static void rule_mark_unsync(struct rec *r, const struct rfn *f)
{
	for (size_t i = 0; i < f->n; i++) {
		const cs_insn *in = &f->in[i];
		int64_t u, d;
		int base = mem_base(in, &u);
		if (base < 0 || !is_op(in, X86_INS_MOV, 2, X86_OP_REG, X86_OP_MEM) || op_size(in, 0) != 4)
			continue;
		for (size_t k = i + 1; k < f->n && k <= i + 6; k++) {
			const cs_insn *st = &f->in[k];
			if (!is_op(st, X86_INS_MOV, 2, X86_OP_MEM, X86_OP_REG) || op_size(st, 0) != 4 ||
			    mem_base(st, &d) != base || d != u)
				continue;
			long def = rec_def(r, f, k, op_fam(st, 1));
			const cs_insn *l = def >= 0 ? &f->in[def] : NULL;
			const cs_x86_op *lm = l ? rec_mem(l, NULL) : NULL;
			if (l && l->id == X86_INS_LEA && lm && reg_fam(lm->mem.base) == op_fam(in, 0) &&
			    lm->mem.disp == 1 && lm->mem.index == X86_REG_INVALID)
			{
				rec_put(r, "kvm_mmu_page.unsync_children", u, 0, 0, 4, K_INT, f->name);
				mark_unsync_sp(r, f, base, rec_def(r, f, i, base));
			}
			break;
		}
	}
}

/* kvm_mmu_mark_parents_unsync(sp) (not inlined from 6.13): mark_unsync
 * inlined (rule_mark_unsync), and the walk of sp->parent_ptes: the head's
 * value loaded from [sp + P] (the argument) and its tag tested. */
static void rule_mark_parents_unsync(struct rec *r, const struct rfn *f)
{
	rule_mark_unsync(r, f);
	for (size_t i = 0; i < f->n; i++) {
		int64_t off;
		if (mem_from_arg(r, f, i, 0, &off) && rmap_head_load(r, f, i)) {
			rec_put(r, "kvm_mmu_page.parent_ptes.val", off, 0, 0, 8, K_INT, f->name);
			return;
		}
	}
}

/* __pte_list_remove(spte, rmap_head) (5.10): the chain is rmap_head->val
 * with bit 0 cleared (and D, -2); per desc,
 * for (i = 0; i < PTE_LIST_EXT && desc->sptes[i]; i++): a scaled load
 * [D + I*8 + S], I incremented and compared with PTE_LIST_EXT, a branch
 * back to the load: sptes at S, PTE_LIST_EXT elements (the compare's
 * bound).  Then desc = desc->more: a load of [D + M] moved into D right
 * before the jump back to the chain's loop. */
static void rule_pte_list_remove(struct rec *r, const struct rfn *f)
{
	bool tagged = false;
	for (size_t i = 0; i < f->n; i++)
		if (is_op(&f->in[i], X86_INS_AND, 2, X86_OP_REG, X86_OP_IMM) && op_imm(&f->in[i], 1) == -2)
			tagged = true;
	for (size_t i = 0; i < f->n && tagged; i++) {
		const cs_insn *ld = &f->in[i];
		const cs_x86_op *m = rec_mem(ld, NULL);
		if (!is_op(ld, X86_INS_MOV, 2, X86_OP_REG, X86_OP_MEM) || op_size(ld, 0) != 8 ||
		    m->mem.scale != 8 || m->mem.index == X86_REG_INVALID || m->mem.segment != X86_REG_INVALID ||
		    reg_fam(m->mem.base) < 0)
			continue;
		int d = reg_fam(m->mem.base), ix = reg_fam(m->mem.index);
		int64_t s = m->mem.disp, n = 0, more = -1;
		size_t k = i + 1;
		/* add I, 1; cmp I, N; jne/jb/jl back to the load */
		for (; k + 1 < f->n && k <= i + 12 && !n; k++) {
			const cs_insn *c = &f->in[k], *j = &f->in[k + 1], *a = &f->in[k - 1];
			if (!is_op(c, X86_INS_CMP, 2, X86_OP_REG, X86_OP_IMM) || op_fam(c, 0) != ix)
				continue;
			if ((j->id == X86_INS_JNE || j->id == X86_INS_JB || j->id == X86_INS_JL) &&
			    f->jump_to[k + 1] >= 0 && f->jump_to[k + 1] <= (long)i &&
			    f->jump_to[k + 1] + 4 >= (long)i && is_op(a, X86_INS_ADD, 2, X86_OP_REG, X86_OP_IMM) &&
			    op_fam(a, 0) == ix && op_imm(a, 1) == 1)
				n = op_imm(c, 1);
			break;
		}
		if (n < 1 || n > 64 || s < 0)
			continue;
		/* mov X, [D + M] ... mov D, X; jmp back before the load */
		for (size_t l = k + 1; l < f->n && l <= k + 8 && more < 0; l++) {
			const cs_insn *in = &f->in[l];
			int64_t disp = 0;
			if (!is_op(in, X86_INS_MOV, 2, X86_OP_REG, X86_OP_MEM) || op_size(in, 0) != 8 ||
			    mem_base(in, &disp) != d)
				continue;
			for (size_t q = l + 1; q + 1 < f->n && q <= l + 6; q++) {
				const cs_insn *mv = &f->in[q], *jmp = &f->in[q + 1];
				if (is_op(mv, X86_INS_MOV, 2, X86_OP_REG, X86_OP_REG) && op_fam(mv, 0) == d &&
				    op_fam(mv, 1) == op_fam(in, 0) && jmp->id == X86_INS_JMP &&
				    f->jump_to[q + 1] >= 0 && f->jump_to[q + 1] <= (long)i &&
				    f->jump_to[q + 1] + 4 >= (long)i) {
					more = disp;
					break;
				}
				if (insn_writes(r, mv, op_fam(in, 0)) || insn_writes(r, mv, d))
					break;
			}
		}
		/* more outside the array */
		if (more < 0 || (more + 8 > s && more < s + 8 * n))
			continue;
		rec_put(r, "pte_list_desc.sptes", s, 0, 0, (uint32_t)(8 * n), K_PTRARRAY, f->name);
		struct recover_item *it = rec_find(r, "pte_list_desc.sptes");
		if (it && !it->conflict) {
			if (it->count && it->count != (uint32_t)n)
				it->conflict = true;
			it->count = (uint32_t)n;
		}
		rec_put(r, "pte_list_desc.more", more, 0, 0, 8, K_PTR, f->name);
		/* the two members are the whole struct: no count before 5.15 */
		int64_t end = more + 8 > s + 8 * n ? more + 8 : s + 8 * n;
		if ((more == 0 && s == 8) || (s == 0 && more == 8 * n))
			rec_put(r, "pte_list_desc", 0, 0, 0, (uint32_t)end, K_SIZE, f->name);
		return;
	}
}

/* rmap_get_next(iter) (5.10): desc = iter->desc (a load of [iter + X]);
 * desc->sptes[pos] a scaled load through it; at the end of a desc,
 * iter->desc = desc->more (a load of [desc + M] stored to [iter + X]).
 * Confirms what __pte_list_remove showed (a disagreement voids it). */
static void rule_rmap_get_next(struct rec *r, const struct rfn *f)
{
	if (!rec_find(r, "pte_list_desc.sptes"))
		return;
	for (size_t i = 0; i < f->n; i++) {
		int64_t x;
		if (!is_op(&f->in[i], X86_INS_MOV, 2, X86_OP_REG, X86_OP_MEM) || op_size(&f->in[i], 0) != 8 ||
		    !mem_from_arg(r, f, i, 0, &x))
			continue;
		int64_t more = -1, sptes = -1;
		for (size_t k = i + 1; k < f->n; k++) {
			const cs_insn *in = &f->in[k];
			const cs_x86_op *m = rec_mem(in, NULL);
			if (!is_op(in, X86_INS_MOV, 2, X86_OP_REG, X86_OP_MEM) || op_size(in, 0) != 8 || !m ||
			    m->mem.segment != X86_REG_INVALID || reg_fam(m->mem.base) < 0)
				continue;
			struct origin o = rec_origin(r, f, k, reg_fam(m->mem.base));
			if (o.kind != O_INSN || o.insn != (long)i || o.off)
				continue;
			if (m->mem.index != X86_REG_INVALID && m->mem.scale == 8) {
				sptes = m->mem.disp;
				continue;
			}
			if (m->mem.index != X86_REG_INVALID || k + 1 >= f->n)
				continue;
			const cs_insn *st = &f->in[k + 1];
			int64_t y;
			if (is_op(st, X86_INS_MOV, 2, X86_OP_MEM, X86_OP_REG) && op_fam(st, 1) == op_fam(in, 0) &&
			    mem_from_arg(r, f, k + 1, 0, &y) && y == x)
				more = m->mem.disp;
		}
		if (more >= 0 && sptes >= 0) {
			rec_put(r, "pte_list_desc.sptes", sptes, 0, 0, 0, K_PTRARRAY, f->name);
			rec_put(r, "pte_list_desc.more", more, 0, 0, 8, K_PTR, f->name);
			return;
		}
	}
}

/* mmu_need_write_protect(vcpu, gfn, can_unsync), for each valid indirect
 * page of gfn: if (sp->role.direct) skip (movzx the role's low byte, js);
 * if (sp->unsync) continue; kvm_unsync_page(): sp->unsync = 1. */
static void rule_need_wp(struct rec *r, const struct rfn *f)
{
	uint64_t word;
	bool have_word = rec_get(r, "kvm_mmu_page.role.word", &word);
	for (size_t i = 0; i < f->n; i++) {
		const cs_insn *in = &f->in[i];
		int64_t u, d;
		int base = mem_base(in, &u);
		if (base < 0)
			continue;
		if (is_op(in, X86_INS_CMP, 2, X86_OP_MEM, X86_OP_IMM) && op_size(in, 0) == 1 &&
		    op_imm(in, 1) == 0) {
			for (size_t k = i + 1; k < f->n && k <= i + 40; k++)
				if (is_op(&f->in[k], X86_INS_MOV, 2, X86_OP_MEM, X86_OP_IMM) &&
				    op_size(&f->in[k], 0) == 1 && op_imm(&f->in[k], 1) == 1 &&
				    mem_base(&f->in[k], &d) == base && d == u) {
					rec_put(r, "kvm_mmu_page.unsync", u, 0, 0, 1, K_INT, f->name);
					break;
				}
		}
		/* movzx E, byte [sp + word]; test E8, E8; js: bit 7 of the role */
		if (have_word && is_op(in, X86_INS_MOVZX, 2, X86_OP_REG, X86_OP_MEM) && op_size(in, 1) == 1 &&
		    u == (int64_t)word && i + 2 < f->n && f->in[i + 1].id == X86_INS_TEST &&
		    op_fam(&f->in[i + 1], 0) == op_fam(in, 0) && f->in[i + 2].id == X86_INS_JS)
			rec_role_bits(r, "direct", u, 7, 1, f->name);
	}
}

/* kvm_mmu_get_page(vcpu, gfn, gaddr, level, direct, access) (before 5.19):
 * role.direct = direct (shl by its bit), role.access = access (and with
 * its width, shl by its bit), role.quadrant = quadrant (the role ANDed
 * with the field's complement, the value masked and shifted into it);
 * sp->gfns is the third object from the caches, stored into the new page
 * only for indirect pages (sp->spt being the second). */
static void rule_get_page(struct rec *r, const struct rfn *f)
{
	uint64_t word = 0, spt = 0;
	if (!rec_get(r, "kvm_mmu_page.role.word", &word))
		return;
	for (size_t i = 0; i + 1 < f->n; i++) {
		const cs_insn *sh = &f->in[i + 1], *an = &f->in[i];
		if (!is_op(sh, X86_INS_SHL, 2, X86_OP_REG, X86_OP_IMM))
			continue;
		int fam = op_fam(sh, 0);
		int64_t s = op_imm(sh, 1);
		if (s <= 0 || s >= 32)
			continue;
		int64_t mask = 0;
		if (is_op(an, X86_INS_AND, 2, X86_OP_REG, X86_OP_IMM) && op_fam(an, 0) == fam)
			mask = op_imm(an, 1);
		struct origin o = rec_origin(r, f, mask ? i : i + 1, fam);
		int w = mask > 0 && !(mask & (mask + 1)) ? __builtin_popcountll((unsigned long long)mask) : 0;
		if (origin_is_arg(o, 5) && w)
			rec_role_bits(r, "access", (int64_t)word + s / 8, (int)(s % 8), w, f->name);
		else if (origin_is_arg(o, 4) && !mask && o.off == 0)
			rec_role_bits(r, "direct", (int64_t)word + s / 8, (int)(s % 8), 1, f->name);
		else if (w && o.kind == O_INSN) {
			/* quadrant: the role is cleared where it goes */
			uint32_t clear = ~(uint32_t)((uint64_t)mask << s);
			for (size_t k = 0; k < f->n; k++)
				if (is_op(&f->in[k], X86_INS_AND, 2, X86_OP_REG, X86_OP_IMM) &&
				    (uint32_t)op_imm(&f->in[k], 1) == clear && op_size(&f->in[k], 0) == 4) {
					rec_role_bits(r, "quadrant", (int64_t)word + s / 8, (int)(s % 8), w, f->name);
					break;
				}
		}
	}
	/* stores of cache allocations into the page the first one returned */
	if (!rec_get(r, "kvm_mmu_page.spt", &spt))
		return;
	int sp_fam = -1, nalloc = 0;
	int64_t gfns = -1;
	for (size_t i = 0; i + 1 < f->n; i++) {
		if (!callee_is(r, &f->in[i], "kvm_mmu_memory_cache_alloc"))
			continue;
		nalloc++;
		/* the first result (rax) moved into a callee-saved register: the page */
		if (sp_fam < 0) {
			for (size_t k = i + 1; k < f->n && k <= i + 4 && f->in[k].id != X86_INS_CALL; k++)
				if (is_op(&f->in[k], X86_INS_MOV, 2, X86_OP_REG, X86_OP_REG) &&
				    op_fam(&f->in[k], 1) == 0 && op_size(&f->in[k], 0) == 8) {
					sp_fam = op_fam(&f->in[k], 0);
					break;
				}
			continue;
		}
		/* the next store of rax through that register */
		for (size_t k = i + 1; k < f->n && k <= i + 8 && sp_fam >= 0; k++) {
			int64_t d;
			if (is_op(&f->in[k], X86_INS_MOV, 2, X86_OP_MEM, X86_OP_REG) && op_fam(&f->in[k], 1) == 0 &&
			    op_size(&f->in[k], 0) == 8 && mem_base(&f->in[k], &d) == sp_fam) {
				if (d != (int64_t)spt)
					gfns = gfns < 0 || gfns == d ? d : -2;
				break;
			}
			if (insn_writes(r, &f->in[k], 0) || insn_writes(r, &f->in[k], sp_fam))
				break;
		}
	}
	if (gfns >= 0 && nalloc >= 3)
		rec_put(r, "kvm_mmu_page.gfns", gfns, 0, 0, 8, K_PTR, f->name);
}

/* ---- pte_list_desc from 6.1: { more; spte_count; [tail_count;] sptes[] } -- */

/* Record pte_list_desc.spte_count at OFF, SIZE bytes wide (u64 in 6.1, u32
 * next to a u32 tail_count later): a second function showing another
 * width voids it like another offset would. */
static void desc_count_put(struct rec *r, int64_t off, uint32_t size, const char *from)
{
	rec_put(r, "pte_list_desc.spte_count", off, 0, 0, size, K_INT, from);
	struct recover_item *it = rec_find(r, "pte_list_desc.spte_count");
	if (it && !it->conflict && it->size != size) {
		rec_conflict(r, it->path);
		it->conflict = true;
	}
}

/* sptes[N]: N from a bound the code compares with. */
static void desc_sptes_count(struct rec *r, int64_t n, const char *from)
{
	struct recover_item *it = rec_find(r, "pte_list_desc.sptes");
	if (!it || it->conflict || n < 1 || n > 64)
		return;
	if (it->count && it->count != (uint32_t)n) {
		rec_conflict(r, it->path);
		it->conflict = true;
		return;
	}
	it->count = (uint32_t)n;
	it->size = (uint32_t)(8 * n);
	if (!strstr(it->from, from)) {
		size_t l = strlen(it->from);
		snprintf(it->from + l, sizeof(it->from) - l, ", %s", from);
	}
}

/* kvm_zap_all_rmap_sptes(kvm, rmap_head) (6.1+): the chain is
 * rmap_head->val & ~1 (D); per desc,
 * for (i = 0; i < desc->spte_count; i++) clear desc->sptes[i]: a scaled
 * load [D + I*8 + S] and a compare of the index with [D + C] (its width is
 * spte_count's) followed by jb/jae; then next = desc->more, a load of
 * [D + M] moved into D right before the jump back to the chain's loop.
 * Where UBSAN bounds the index, the compare with an immediate right before
 * the load (cmp I, N; jae) is the array's element count. */
static void rule_zap_all_rmap(struct rec *r, const struct rfn *f)
{
	bool tagged = false;
	for (size_t i = 0; i < f->n; i++)
		if (is_op(&f->in[i], X86_INS_AND, 2, X86_OP_REG, X86_OP_IMM) &&
		    (op_imm(&f->in[i], 1) == -2 || op_imm(&f->in[i], 1) == -4))
			tagged = true;
	for (size_t i = 0; i < f->n && tagged; i++) {
		const cs_insn *ld = &f->in[i];
		const cs_x86_op *m = rec_mem(ld, NULL);
		if (!is_op(ld, X86_INS_MOV, 2, X86_OP_REG, X86_OP_MEM) || op_size(ld, 0) != 8 ||
		    m->mem.scale != 8 || m->mem.index == X86_REG_INVALID || m->mem.segment != X86_REG_INVALID ||
		    reg_fam(m->mem.base) < 0 || m->mem.disp < 0)
			continue;
		int d = reg_fam(m->mem.base);
		int64_t s = m->mem.disp, c = -1, more = -1, bound = 0;
		uint32_t cw = 0;
		/* the loop's compare with [D + C], within a few instructions */
		for (size_t k = i > 12 ? i - 12 : 0; k + 1 < f->n && k <= i + 12 && c < 0; k++) {
			const cs_insn *in = &f->in[k], *j = &f->in[k + 1];
			int64_t disp = 0;
			if (in->id != X86_INS_CMP || (j->id != X86_INS_JB && j->id != X86_INS_JAE) ||
			    f->in[k].detail->x86.op_count != 2 || mem_base(in, &disp) != d)
				continue;
			int mo = in->detail->x86.operands[0].type == X86_OP_MEM ? 0 : 1;
			if (in->detail->x86.operands[1 - mo].type != X86_OP_REG)
				continue;
			c = disp;
			cw = op_size(in, mo);
		}
		/* cmp I, N; jae (UBSAN's bound) right before the load */
		for (size_t k = i > 3 ? i - 3 : 0; k + 1 < i; k++)
			if (is_op(&f->in[k], X86_INS_CMP, 2, X86_OP_REG, X86_OP_IMM) &&
			    op_fam(&f->in[k], 0) == reg_fam(m->mem.index) && f->in[k + 1].id == X86_INS_JAE)
				bound = op_imm(&f->in[k], 1);
		if (c < 0 || c == s || (cw != 4 && cw != 8))
			continue;
		/* mov X, [D + M] ... mov D, X; jmp back before the load */
		for (size_t l = i + 1; l < f->n && l <= i + 40 && more < 0; l++) {
			const cs_insn *in = &f->in[l];
			int64_t disp = 0;
			if (!is_op(in, X86_INS_MOV, 2, X86_OP_REG, X86_OP_MEM) || op_size(in, 0) != 8 ||
			    mem_base(in, &disp) != d)
				continue;
			for (size_t q = l + 1; q + 1 < f->n && q <= l + 8; q++) {
				const cs_insn *mv = &f->in[q], *jmp = &f->in[q + 1];
				if (is_op(mv, X86_INS_MOV, 2, X86_OP_REG, X86_OP_REG) && op_fam(mv, 0) == d &&
				    op_fam(mv, 1) == op_fam(in, 0) && jmp->id == X86_INS_JMP &&
				    f->jump_to[q + 1] >= 0 && f->jump_to[q + 1] <= (long)i) {
					more = disp;
					break;
				}
				if (insn_writes(r, mv, op_fam(in, 0)) || insn_writes(r, mv, d))
					break;
			}
		}
		/* three distinct members, the count and more outside the array */
		if (more < 0 || more == c || (more + 8 > s && more < s + 8) || (c + cw > s && c < s + 8))
			continue;
		rec_put(r, "pte_list_desc.sptes", s, 0, 0, 0, K_PTRARRAY, f->name);
		rec_put(r, "pte_list_desc.more", more, 0, 0, 8, K_PTR, f->name);
		desc_count_put(r, c, cw, f->name);
		if (bound)
			desc_sptes_count(r, bound, f->name);
		return;
	}
}

/* pte_list_add(cache, spte, rmap_head) (6.1+): a new entry goes to
 * desc->sptes[desc->spte_count++] unless the head desc is full:
 * spte_count loaded (mov E, [D + C]) and compared with PTE_LIST_EXT
 * (cmp E, N; je/jne), then the store [D + E*8 + S]. */
static void rule_pte_list_add(struct rec *r, const struct rfn *f)
{
	uint64_t c, s;
	if (!rec_get(r, "pte_list_desc.spte_count", &c) || !rec_get(r, "pte_list_desc.sptes", &s))
		return;
	for (size_t i = 0; i < f->n; i++) {
		const cs_insn *ld = &f->in[i];
		int64_t disp;
		int d = mem_base(ld, &disp);
		if (d < 0 || disp != (int64_t)c || !is_op(ld, X86_INS_MOV, 2, X86_OP_REG, X86_OP_MEM))
			continue;
		int e = op_fam(ld, 0);
		int64_t n = 0;
		for (size_t k = i + 1; k + 1 < f->n && k <= i + 4 && !n; k++)
			if (is_op(&f->in[k], X86_INS_CMP, 2, X86_OP_REG, X86_OP_IMM) && op_fam(&f->in[k], 0) == e &&
			    (f->in[k + 1].id == X86_INS_JE || f->in[k + 1].id == X86_INS_JNE))
				n = op_imm(&f->in[k], 1);
		if (!n)
			continue;
		/* the store indexed by that count */
		for (size_t k = i + 1; k < f->n && k <= i + 12; k++) {
			const cs_insn *st = &f->in[k];
			const cs_x86_op *m = rec_mem(st, NULL);
			if (is_op(st, X86_INS_MOV, 2, X86_OP_MEM, X86_OP_REG) && m->mem.scale == 8 &&
			    reg_fam(m->mem.index) == e && reg_fam(m->mem.base) == d &&
			    m->mem.disp == (int64_t)s) {
				desc_sptes_count(r, n, f->name);
				return;
			}
		}
	}
}

/* pte_list_count(rmap_head) (6.4+): desc->tail_count + desc->spte_count,
 * two u32 loads through the head desc added (mov E, [D + A];
 * add E, [D + B]): the one that is not spte_count is tail_count.  6.1's
 * sums spte_count over the chain instead: no second member, none
 * recorded. */
static void rule_pte_list_count(struct rec *r, const struct rfn *f)
{
	struct recover_item *cnt = rec_find(r, "pte_list_desc.spte_count");
	if (!cnt || cnt->conflict || cnt->size != 4)
		return;
	for (size_t i = 0; i + 1 < f->n; i++) {
		const cs_insn *a = &f->in[i], *b = &f->in[i + 1];
		int64_t da, db;
		int d = mem_base(a, &da);
		if (d < 0 || !is_op(a, X86_INS_MOV, 2, X86_OP_REG, X86_OP_MEM) || op_size(a, 0) != 4 ||
		    !is_op(b, X86_INS_ADD, 2, X86_OP_REG, X86_OP_MEM) || op_fam(b, 0) != op_fam(a, 0) ||
		    op_size(b, 1) != 4 || mem_base(b, &db) != d || da == db)
			continue;
		int64_t other = da == (int64_t)cnt->off ? db : db == (int64_t)cnt->off ? da : -1;
		if (other >= 0)
			rec_put(r, "pte_list_desc.tail_count", other, 0, 0, 4, K_INT, f->name);
		return;
	}
}

/* kvm_mmu_vendor_module_init (kvm_mmu_module_init before 5.16?):
 * pte_list_desc_cache = kmem_cache_create("pte_list_desc",
 * sizeof(struct pte_list_desc), ...): the constant second argument of the
 * call whose result is stored to pte_list_desc_cache is the struct's size.
 * Where sptes[] is the last member and no bound gave its count, the size
 * does. */
static void rule_desc_cache(struct rec *r, const struct rfn *f)
{
	for (size_t i = 0; i + 1 < f->n; i++) {
		const cs_insn *st = &f->in[i + 1];
		const char *sym = rec_rip_name(r, st);
		if (f->in[i].id != X86_INS_CALL || !is_op(st, X86_INS_MOV, 2, X86_OP_MEM, X86_OP_REG) ||
		    op_fam(st, 1) != 0 || !sym || strcmp(sym, "pte_list_desc_cache"))
			continue;
		long def = rec_def(r, f, i, 6);
		const cs_insn *mv = def >= 0 ? &f->in[def] : NULL;
		if (!mv || !is_op(mv, X86_INS_MOV, 2, X86_OP_REG, X86_OP_IMM) || op_imm(mv, 1) <= 0 ||
		    op_imm(mv, 1) > 4096)
			return;
		int64_t size = op_imm(mv, 1);
		rec_put(r, "pte_list_desc", 0, 0, 0, (uint32_t)size, K_SIZE, f->name);
		struct recover_item *it = rec_find(r, "pte_list_desc");
		if (it && !it->conflict && it->size != (uint32_t)size) {
			rec_conflict(r, it->path);
			it->conflict = true;
		}
		struct recover_item *sp = rec_find(r, "pte_list_desc.sptes");
		if (!sp || sp->conflict || sp->count)
			return;
		/* the array last: after every other member recovered */
		for (size_t k = 0; k < r->R->nitems; k++) {
			const struct recover_item *m = &r->R->items[k];
			if (!strncmp(m->path, "pte_list_desc.", 14) && m != sp && !m->conflict &&
			    m->off >= sp->off)
				return;
		}
		if (size > (int64_t)sp->off && (size - (int64_t)sp->off) % 8 == 0)
			desc_sptes_count(r, (size - (int64_t)sp->off) / 8, f->name);
		return;
	}
}

/* mmu_free_root_page(kvm, root_hpa, invalid_list) (6.x): a shadow root's
 * if (!--sp->root_count && sp->role.invalid) zap: a dword decrement of
 * [sp + R] (sub 1 or dec), jne, then a test of role.invalid's bit through
 * the same register: root_count at R.  (5.10's is read from
 * kvm_tdp_mmu_get_vcpu_root_hpa.) */
static void rule_free_root_count(struct rec *r, const struct rfn *f)
{
	struct recover_item *inv = rec_find(r, "kvm_mmu_page.role.invalid");
	if (!inv || inv->conflict)
		return;
	for (size_t i = 0; i + 2 < f->n; i++) {
		const cs_insn *in = &f->in[i], *t = &f->in[i + 2];
		const cs_x86_op *m = rec_mem(in, NULL), *tm = rec_mem(t, NULL);
		bool dec = in->id == X86_INS_DEC ||
			   (is_op(in, X86_INS_SUB, 2, X86_OP_MEM, X86_OP_IMM) && op_imm(in, 1) == 1);
		if (!dec || in->detail->x86.operands[0].type != X86_OP_MEM || op_size(in, 0) != 4 ||
		    !mem_plain(m) || f->in[i + 1].id != X86_INS_JNE ||
		    !is_op(t, X86_INS_TEST, 2, X86_OP_MEM, X86_OP_IMM) || op_size(t, 0) != 1 || !mem_plain(tm) ||
		    tm->mem.base != m->mem.base)
			continue;
		int bit = single_bit(op_imm(t, 1));
		if (bit < 0 || (uint64_t)tm->mem.disp * 8 + (uint64_t)bit != inv->off * 8 + inv->bit)
			continue;
		rec_put(r, "kvm_mmu_page.root_count", m->mem.disp, 0, 0, 4, K_SINT, f->name);
		return;
	}
}

/* Where the value of register FAM at instruction I came from, through
 * copies (mov, movzx), masks (and R, imm: *MASK) and right shifts (*SHR):
 * the argument number, or -1. */
static int child_role_src(const struct rec *r, const struct rfn *f, size_t i, int fam, int64_t *mask,
			  int64_t *shr)
{
	*mask = -1;
	*shr = 0;
	for (int depth = 0; depth < 8; depth++) {
		long j = rec_def(r, f, i, fam);
		if (j < 0) {
			struct origin o = rec_origin(r, f, i, fam);
			return o.kind == O_ARG && !o.off ? o.arg : -1;
		}
		const cs_insn *in = &f->in[j];
		if ((is_op(in, X86_INS_MOV, 2, X86_OP_REG, X86_OP_REG) ||
		     is_op(in, X86_INS_MOVZX, 2, X86_OP_REG, X86_OP_REG)) && op_fam(in, 0) == fam)
			fam = op_fam(in, 1);
		else if (is_op(in, X86_INS_AND, 2, X86_OP_REG, X86_OP_IMM) && op_fam(in, 0) == fam)
			*mask &= op_imm(in, 1);
		else if (is_op(in, X86_INS_SHR, 2, X86_OP_REG, X86_OP_IMM) && op_fam(in, 0) == fam && !*shr)
			*shr = op_imm(in, 1);
		else
			return -1;
		i = (size_t)j;
	}
	return -1;
}

/* kvm_mmu_child_role(sptep, direct, access) (5.19+): the parent's role with
 * role.direct = direct (arg 1 shifted to its bit), role.access = access
 * (arg 2 & 7 shifted to its bits) and, for 4-byte guest PTEs,
 * role.quadrant = spte_index(sptep) & 1 (arg 0 >> 3 & 1 shifted to the
 * field, which is cleared: the run of bits an and R, ~bits clears from
 * there gives its width). */
static void rule_child_role(struct rec *r, const struct rfn *f)
{
	uint64_t word;
	if (!rec_get(r, "kvm_mmu_page.role.word", &word))
		return;
	for (size_t i = 0; i < f->n; i++) {
		const cs_insn *sh = &f->in[i];
		if (!is_op(sh, X86_INS_SHL, 2, X86_OP_REG, X86_OP_IMM))
			continue;
		int64_t s = op_imm(sh, 1), mask, shr;
		if (s <= 0 || s >= 32)
			continue;
		int arg = child_role_src(r, f, i, op_fam(sh, 0), &mask, &shr);
		if (arg == 1 && mask == -1 && !shr)
			rec_role_bits(r, "direct", (int64_t)word + s / 8, (int)(s % 8), 1, f->name);
		else if (arg == 2 && mask > 0 && !(mask & (mask + 1)) && !shr)
			rec_role_bits(r, "access", (int64_t)word + s / 8, (int)(s % 8),
				      __builtin_popcountll((unsigned long long)mask), f->name);
		else if (arg == 0 && mask == 1 && shr == 3) {
			/* the field cleared before: ~imm a run of bits from S */
			for (size_t k = 0; k < f->n; k++) {
				const cs_insn *a = &f->in[k];
				if (!is_op(a, X86_INS_AND, 2, X86_OP_REG, X86_OP_IMM) || op_size(a, 0) != 4)
					continue;
				/* the run of cleared bits that starts at S (other
				 * fields may be cleared by the same and) */
				uint32_t field = ~(uint32_t)op_imm(a, 1);
				int w = 0;
				if (!(field & (1u << s)) || (field & (1u << (s - 1))))
					continue;
				while (s + w < 32 && (field & (1u << (s + w))))
					w++;
				rec_role_bits(r, "quadrant", (int64_t)word + s / 8, (int)(s % 8), w, f->name);
				break;
			}
		}
	}
}

/* kvm_mmu_page_get_gfn(sp, index) (6.0+; inlined in drop_spte before
 * 6.13): an indirect page's gfn is sp->shadowed_translation[index] >>
 * PAGE_SHIFT: a qword load of [sp + T] (sp the argument, or the page found
 * through page->private), a scaled load through it and a shift right by
 * 12.  (Before 6.0 the gfns array is read as is: kvm_mmu_get_page.) */
static void rule_shadowed_translation(struct rec *r, const struct rfn *f)
{
	struct member priv;
	int64_t poff = -1;
	if (types_member(types_struct(r->in->types, NULL, "page"), "private", &priv))
		poff = (int64_t)member_off(&priv);
	for (size_t i = 0; i < f->n; i++) {
		const cs_insn *ld = &f->in[i];
		int64_t t;
		int b = mem_base(ld, &t);
		if (b < 0 || !is_op(ld, X86_INS_MOV, 2, X86_OP_REG, X86_OP_MEM) || op_size(ld, 0) != 8 || t <= 0)
			continue;
		/* sp: the first argument, or page->private */
		struct origin o = rec_origin(r, f, i, b);
		bool sp = origin_is_arg(o, 0) && !o.off;
		if (!sp && o.kind == O_INSN && !o.off) {
			/* (without vmlinux BTF page.private is recovered later:
			 * then any pointer loaded from memory) */
			int64_t d;
			const cs_insn *p = &f->in[o.insn];
			sp = is_op(p, X86_INS_MOV, 2, X86_OP_REG, X86_OP_MEM) && mem_base(p, &d) >= 0 &&
			     (poff < 0 || d == poff);
		}
		if (!sp)
			continue;
		int x = op_fam(ld, 0);
		for (size_t k = i + 1; k < f->n && k <= i + 6; k++) {
			const cs_insn *e = &f->in[k];
			const cs_x86_op *m = rec_mem(e, NULL);
			if (is_op(e, X86_INS_MOV, 2, X86_OP_REG, X86_OP_MEM) && op_size(e, 0) == 8 &&
			    reg_fam(m->mem.base) == x && m->mem.index != X86_REG_INVALID && m->mem.scale == 8 &&
			    !m->mem.disp) {
				for (size_t q = k + 1; q < f->n && q <= k + 4; q++)
					if (is_op(&f->in[q], X86_INS_SHR, 2, X86_OP_REG, X86_OP_IMM) &&
					    op_fam(&f->in[q], 0) == op_fam(e, 0) && op_imm(&f->in[q], 1) == 12) {
						rec_put(r, "kvm_mmu_page.shadowed_translation", t, 0, 0, 8, K_PTR,
							f->name);
						return;
					}
				break;
			}
			if (insn_writes(r, e, x))
				break;
		}
	}
}

/* __kvm_mmu_create(vcpu, mmu) (6.x): mmu->root.hpa = INVALID_PAGE and
 * every mmu->prev_roots[i] = KVM_MMU_ROOT_INFO_INVALID: a run of qword
 * INVALID_PAGE stores through the second argument after root.hpa, pairs
 * of {pgd, hpa}, up to KVM_MMU_NUM_PREV_ROOTS (4). */
static void rule_mmu_create_prev(struct rec *r, const struct rfn *f)
{
	uint64_t hpa;
	if (!rec_get(r, "kvm_mmu.root.hpa", &hpa))
		return;
	uint64_t seen = 0; /* bit k: mmu + hpa + 8 + 8k stored */
	bool root = false;
	for (size_t i = 0; i < f->n; i++) {
		int64_t off;
		if (!is_op(&f->in[i], X86_INS_MOV, 2, X86_OP_MEM, X86_OP_IMM) || op_imm(&f->in[i], 1) != -1 ||
		    op_size(&f->in[i], 0) != 8 || !mem_from_arg(r, f, i, 1, &off))
			continue;
		int64_t d = off - (int64_t)hpa;
		root |= d == 0;
		if (d > 0 && d % 8 == 0 && d / 8 <= 32)
			seen |= 1ull << (d / 8 - 1);
	}
	/* the one run of pairs (a lone INVALID_PAGE next to the root, 7.x's,
	 * is no array) */
	int lo = -1, n = 0;
	for (int k = 0; k < 32;) {
		int len = 0;
		while (k + len < 32 && (seen & (1ull << (k + len))))
			len++;
		if (len >= 2 && !(len % 2)) {
			if (lo >= 0)
				return; /* two candidates */
			lo = k;
			n = len;
		}
		k += len ? len : 1;
	}
	if (!root || lo < 0 || n / 2 > 4)
		return;
	rec_put(r, "kvm_mmu.prev_roots", (int64_t)hpa + 8 + 8 * lo, 0, 0, (uint32_t)(8 * n), K_ROOTARRAY,
		f->name);
	struct recover_item *it = rec_find(r, "kvm_mmu.prev_roots");
	if (it && !it->conflict) {
		if (it->count && it->count != (uint32_t)n / 2)
			it->conflict = true;
		it->count = (uint32_t)n / 2;
		it->stride = 16;
	}
}

/* __rmap_add(kvm, cache, slot, spte, gfn, access) (6.x): gfn_to_rmap()
 * inlined (7.x: gfn_to_rmap(gfn, level, slot) itself),
 * &slot->arch.rmap[level - 1][index]: a scaled load
 * [slot + L*8 + R] through the third argument whose value is the base of
 * an array of 8-byte heads (lea H, [X + I*8]).  rmap[KVM_NR_PAGE_SIZES] is
 * followed by lpage_info[KVM_NR_PAGE_SIZES - 1]: where that is known its
 * offset gives the count.  (Where vmlinux BTF holds kvm_memory_slot, this
 * agrees with it.) */
static void rule_rmap_add(struct rec *r, const struct rfn *f)
{
	for (size_t i = 0; i < f->n; i++) {
		const cs_insn *ld = &f->in[i];
		const cs_x86_op *m = rec_mem(ld, NULL);
		if (!is_op(ld, X86_INS_MOV, 2, X86_OP_REG, X86_OP_MEM) || op_size(ld, 0) != 8 ||
		    m->mem.index == X86_REG_INVALID || m->mem.scale != 8 || m->mem.disp <= 0 ||
		    m->mem.segment != X86_REG_INVALID || reg_fam(m->mem.base) < 0)
			continue;
		struct origin o = rec_origin(r, f, i, reg_fam(m->mem.base));
		if (!origin_is_arg(o, 2) || o.off)
			continue;
		int x = op_fam(ld, 0);
		for (size_t k = i + 1; k < f->n && k <= i + 6; k++) {
			const cs_insn *l = &f->in[k];
			const cs_x86_op *lm = rec_mem(l, NULL);
			if (l->id == X86_INS_LEA && lm && reg_fam(lm->mem.base) == x &&
			    lm->mem.index != X86_REG_INVALID && lm->mem.scale == 8 && !lm->mem.disp) {
				uint64_t lp;
				int64_t n = 3; /* KVM_NR_PAGE_SIZES on x86 */
				if (rec_get(r, "kvm_memory_slot.arch.lpage_info", &lp) &&
				    (int64_t)lp > m->mem.disp && ((int64_t)lp - m->mem.disp) % 8 == 0 &&
				    ((int64_t)lp - m->mem.disp) / 8 <= 4)
					n = ((int64_t)lp - m->mem.disp) / 8;
				rec_put(r, "kvm_memory_slot.arch.rmap", m->mem.disp, 0, 0, (uint32_t)(8 * n),
					K_PTRARRAY, f->name);
				struct recover_item *it = rec_find(r, "kvm_memory_slot.arch.rmap");
				if (it && !it->conflict)
					it->count = (uint32_t)n;
				return;
			}
			if (insn_writes(r, l, x))
				break;
		}
	}
}

/* shadow_mmu_init_context(vcpu, context, cpu_role, root_role) (6.0+):
 * context->root_role.word = root_role.word, a dword store of the fourth
 * argument through the second (the MMU). */
static void rule_root_role(struct rec *r, const struct rfn *f)
{
	for (size_t i = 0; i < f->n; i++) {
		int64_t off;
		if (!is_op(&f->in[i], X86_INS_MOV, 2, X86_OP_MEM, X86_OP_REG) || op_size(&f->in[i], 0) != 4 ||
		    !mem_from_arg(r, f, i, 1, &off))
			continue;
		struct origin o = rec_origin(r, f, i, op_fam(&f->in[i], 1));
		if (origin_is_arg(o, 3) && !o.off) {
			rec_put(r, "kvm_mmu.root_role.word", off, 0, 0, 4, K_INT, f->name);
			return;
		}
	}
}

/* kvm_mmu_init_vm(kvm) (6.10+; kvm_mmu_alloc_page_hash where not inlined):
 * kvm->arch.mmu_page_hash = kvcalloc(KVM_NUM_MMU_PAGES, ...), the one
 * kvmalloc whose result is stored through the VM.  Before 6.10 the hash is
 * an array inside struct kvm, which no such store reveals: left absent, S19
 * says it is not judged. */
static void rule_page_hash_alloc(struct rec *r, const struct rfn *f)
{
	for (size_t i = 0; i < f->n; i++) {
		int64_t off;
		if (!is_op(&f->in[i], X86_INS_MOV, 2, X86_OP_MEM, X86_OP_REG) || op_size(&f->in[i], 0) != 8 ||
		    !mem_from_arg(r, f, i, 0, &off) || off <= 0)
			continue;
		struct origin o = rec_origin(r, f, i, op_fam(&f->in[i], 1));
		if (o.kind != O_INSN || o.off ||
		    !(callee_is(r, &f->in[o.insn], "__kvmalloc_node_noprof") ||
		      callee_is(r, &f->in[o.insn], "__kvmalloc_node") ||
		      callee_is(r, &f->in[o.insn], "kvmalloc_node")))
			continue;
		rec_put(r, "kvm.arch.mmu_page_hash", off, 0, 0, 8, K_PTR, f->name);
		return;
	}
}

/* After rec_kvm_rules (they give arch.mmu, root.hpa, link, role.word, spt). */
static const struct rec_rule rules[] = {
	{ "kvm", "kvm_mmu_zap_all_fast", rule_zap_all_fast },
	{ "kvm", "__kvm_mmu_zap_all_fast_front_half", rule_zap_all_fast },	/* 6.9+ */
	{ "kvm", "kvm_mmu_create", rule_mmu_create },
	{ "kvm", "kvm_mmu_init_vm", rule_page_hash_alloc },	/* 6.10+: a pointer */
	{ "kvm", "kvm_mmu_alloc_page_hash", rule_page_hash_alloc },
	{ "kvm", "kvm_init_mmu", rule_init_mmu },
	{ "kvm", "__kvm_mmu_create", rule_mmu_create_prev },
	{ "kvm", "shadow_mmu_init_context", rule_root_role },
	{ "kvm", "kvm_mmu_free_roots", rule_free_roots_pgd },
	{ "kvm", "mmu_free_root_page", rule_free_root_count },
	{ "kvm", "mark_unsync", rule_mark_unsync },
	{ "kvm", "kvm_mmu_mark_parents_unsync", rule_mark_parents_unsync },
	{ "kvm", "mmu_need_write_protect", rule_need_wp },
	{ "kvm", "mmu_try_to_unsync_pages", rule_need_wp },	/* its name from 5.16 */
	{ "kvm", "kvm_mmu_get_page", rule_get_page },
	{ "kvm", "kvm_mmu_child_role", rule_child_role },	/* 5.19+ */
	{ "kvm", "drop_spte", rule_shadowed_translation },
	{ "kvm", "__rmap_add", rule_rmap_add },
	{ "kvm", "gfn_to_rmap", rule_rmap_add },	/* not inlined in 7.x */
	{ "kvm", "kvm_mmu_page_get_gfn", rule_shadowed_translation },
	{ "kvm", "__pte_list_remove", rule_pte_list_remove },
	{ "kvm", "rmap_get_next", rule_rmap_get_next },	/* after: confirms it */
	/* the spte_count era (6.1+): the desc loop first, the rest build on it */
	{ "kvm", "kvm_zap_all_rmap_sptes", rule_zap_all_rmap },
	{ "kvm", "pte_list_add", rule_pte_list_add },
	{ "kvm", "pte_list_count", rule_pte_list_count },
	{ "kvm", "kvm_mmu_vendor_module_init", rule_desc_cache },
	{ "kvm", "kvm_mmu_module_init", rule_desc_cache },
};

const struct rec_ruleset rec_shadow_rules = { rules, REC_COUNT(rules), NULL, 0 };
