/* Rules on vmlinux code (no vmlinux BTF): the module list's layout, and the
 * vmlinux types the analysis reads (some revealed by kvm.ko's code). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rec.h"

/* ---- rules on vmlinux code (no vmlinux BTF) ------------------------------ */

/* find_module_all: list_for_each_entry(mod, &modules, list) and
 * strnlen(mod->name, MODULE_NAME_LEN). */
static void rule_modules(struct rec *r, const struct rfn *f)
{
	int64_t list = -1;
	for (size_t i = 0; i < f->n; i++) {
		const char *s = rec_rip_name(r, &f->in[i]);
		if (list < 0 && s && !strcmp(s, "modules") &&
		    is_op(&f->in[i], X86_INS_MOV, 2, X86_OP_REG, X86_OP_MEM)) {
			int d = op_fam(&f->in[i], 0);
			for (size_t k = i + 1; k < f->n && k < i + 16 && list < 0; k++) {
				const cs_x86_op *m = rec_mem(&f->in[k], NULL);
				if (f->in[k].id == X86_INS_LEA && mem_plain(m) && reg_fam(m->mem.base) == d &&
				    m->mem.disp < 0 && rec_def(r, f, k, d) == (long)i)
					list = -m->mem.disp;
			}
			if (list >= 0)
				rec_put(r, "module.list", list, 0, 0, 16, K_LIST, f->name);
		}
		if (list < 0 || !callee_is(r, &f->in[i], "strnlen"))
			continue;
		struct origin o = rec_origin(r, f, i, 7);
		long d = rec_def(r, f, i, 6);
		if (o.kind == O_INSN && d >= 0 && is_op(&f->in[d], X86_INS_MOV, 2, X86_OP_REG, X86_OP_IMM) &&
		    op_imm(&f->in[d], 1) > 8 && op_imm(&f->in[d], 1) <= 256) {
			struct recover_item *it;
			rec_put(r, "module.name", o.off + list, 0, 0, (uint32_t)op_imm(&f->in[d], 1), K_CHARS,
				f->name);
			if ((it = rec_find(r, "module.name")))
				it->count = it->size;
		}
		return;
	}
}

/* find_kallsyms_symbol_value(mod, name): kallsyms = mod->kallsyms; for i <
 * kallsyms->num_symtab: strcmp(kallsyms->strtab + symtab[i].st_name). */
static void rule_mod_kallsyms(struct rec *r, const struct rfn *f)
{
	long ks = -1;
	for (size_t i = 0; i < f->n; i++) {
		int64_t off;
		const cs_insn *in = &f->in[i];
		const cs_x86_op *m = rec_mem(in, NULL);
		if (ks < 0) {
			if (is_op(in, X86_INS_MOV, 2, X86_OP_REG, X86_OP_MEM) && op_size(in, 0) == 8 &&
			    mem_from_arg(r, f, i, 0, &off) && off > 0) {
				rec_put(r, "module.kallsyms", off, 0, 0, 8, K_PTR, f->name);
				ks = (long)i;
			}
			continue;
		}
		if (!is_op(in, X86_INS_MOV, 2, X86_OP_REG, X86_OP_MEM) || !mem_plain(m))
			continue;
		struct origin o = rec_origin(r, f, i, reg_fam(m->mem.base));
		if (o.kind != O_INSN || o.insn != ks)
			continue;
		int64_t at = o.off + m->mem.disp;
		if (op_size(in, 0) == 4) {
			rec_put(r, "mod_kallsyms.num_symtab", at, 0, 0, 4, K_INT, f->name);
			continue;
		}
		/* symtab is walked (st_name read through it), strtab added to */
		int d = op_fam(in, 0);
		for (size_t k = i + 1; k < f->n && k < i + 16; k++) {
			const cs_insn *u = &f->in[k];
			const cs_x86_op *um = rec_mem(u, NULL);
			if (um && reg_fam(um->mem.base) == d && rec_def(r, f, k, d) == (long)i &&
			    is_op(u, X86_INS_MOV, 2, X86_OP_REG, X86_OP_MEM) && op_size(u, 0) == 4) {
				rec_put(r, "mod_kallsyms.symtab", at, 0, 0, 8, K_PTR, f->name);
				break;
			}
			if (is_op(u, X86_INS_ADD, 2, X86_OP_REG, X86_OP_REG) && op_fam(u, 1) == d &&
			    rec_def(r, f, k, d) == (long)i) {
				rec_put(r, "mod_kallsyms.strtab", at, 0, 0, 8, K_PTR, f->name);
				break;
			}
		}
	}
}

/* list_del_rcu(&root->link) in kvm_tdp_mmu_put_root: next->prev = prev;
 * prev->next = next; entry->prev = LIST_POISON2. */
static void rule_list_head(struct rec *r, const struct rfn *f)
{
	for (size_t i = 0; i < f->n; i++) {
		const cs_insn *in = &f->in[i];
		const cs_x86_op *m = rec_mem(in, NULL);
		if (!is_op(in, X86_INS_MOV, 2, X86_OP_MEM, X86_OP_REG) || op_size(in, 0) != 8 || !mem_plain(m))
			continue;
		long d = rec_def(r, f, i, op_fam(in, 1));
		if (d < 0 || !is_op(&f->in[d], X86_INS_MOVABS, 2, X86_OP_REG, X86_OP_IMM) ||
		    ((uint64_t)op_imm(&f->in[d], 1) & 0xffff000000000fffull) != 0xdead000000000122ull)
			continue;
		/* the entry's two pointers were loaded just before */
		for (size_t k = d > 4 ? (size_t)d - 4 : 0; k < (size_t)d; k++) {
			const cs_x86_op *l = rec_mem(&f->in[k], NULL);
			if (is_op(&f->in[k], X86_INS_MOV, 2, X86_OP_REG, X86_OP_MEM) && op_size(&f->in[k], 0) == 8 &&
			    mem_plain(l) && reg_fam(l->mem.base) == reg_fam(m->mem.base) &&
			    l->mem.disp != m->mem.disp) {
				int64_t lo = l->mem.disp < m->mem.disp ? l->mem.disp : m->mem.disp;
				rec_put(r, "list_head.next", l->mem.disp - lo, 0, 0, 8, K_PTR, f->name);
				rec_put(r, "list_head.prev", m->mem.disp - lo, 0, 0, 8, K_PTR, f->name);
				return;
			}
		}
	}
}

/* search_memslots in gfn_to_memslot: gfn below the slot goes rb_left, past
 * its end rb_right: the self-loads after the jae/jb of those tests. */
static void rule_rb_node(struct rec *r, const struct rfn *f)
{
	for (size_t i = 1; i < f->n; i++) {
		const cs_insn *in = &f->in[i];
		const cs_x86_op *m = rec_mem(in, NULL);
		if (!is_op(in, X86_INS_MOV, 2, X86_OP_REG, X86_OP_MEM) || op_size(in, 0) != 8 ||
		    !mem_plain(m) || reg_fam(m->mem.base) != op_fam(in, 0) || m->mem.disp <= 0)
			continue;
		if (f->in[i - 1].id == X86_INS_JAE)
			rec_put(r, "rb_node.rb_left", m->mem.disp, 0, 0, 8, K_PTR, f->name);
		else if (f->in[i - 1].id == X86_INS_JB)
			rec_put(r, "rb_node.rb_right", m->mem.disp, 0, 0, 8, K_PTR, f->name);
	}
	struct recover_item *it = rec_find(r, "kvm_memory_slot.gfn_node");
	if (it && it->stride)
		rec_put(r, "rb_node", 0, 0, 0, it->stride, K_SIZE, f->name);
}

/* xas_start(xas): xa_head(xas->xa), and for a node entry
 * node->slots[(index >> node->shift) & XA_CHUNK_MASK]. */
/* A shr by cl within a few instructions of I, which loaded ecx (a bounds
 * check of the shift may come between, as with UBSAN). */
static bool shift_by(const struct rfn *f, size_t i)
{
	if (op_fam(&f->in[i], 0) != 1)
		return false;
	for (size_t k = i + 1; k < f->n && k <= i + 5; k++)
		if (is_op(&f->in[k], X86_INS_SHR, 2, X86_OP_REG, X86_OP_REG) &&
		    f->in[k].detail->x86.operands[1].reg == X86_REG_CL)
			return true;
	return false;
}

static void rule_xarray(struct rec *r, const struct rfn *f)
{
	for (size_t i = 0; i < f->n; i++) {
		const cs_insn *in = &f->in[i];
		const cs_x86_op *m = rec_mem(in, NULL);
		if (!is_op(in, X86_INS_MOV, 2, X86_OP_REG, X86_OP_MEM) || op_size(in, 0) != 8 || !m)
			continue;
		if (mem_plain(m) && !rec_find(r, "xarray.xa_head")) {
			struct origin o = rec_origin(r, f, i, reg_fam(m->mem.base));
			int64_t xa;
			if (o.kind == O_INSN && !o.off && rec_mem(&f->in[o.insn], NULL) &&
			    mem_from_arg(r, f, (size_t)o.insn, 0, &xa) && xa == 0 && m->mem.disp > 0)
				rec_put(r, "xarray.xa_head", m->mem.disp, 0, 0, 8, K_PTR, f->name);
			continue;
		}
		/* [node + (idx + k) * 8 + d]: slots at k * 8 + d */
		if (m->mem.index == X86_REG_INVALID || m->mem.scale != 8 || reg_fam(m->mem.base) < 0 || i < 1)
			continue;
		const cs_insn *a = &f->in[i - 1];
		if (!is_op(a, X86_INS_ADD, 2, X86_OP_REG, X86_OP_IMM) || op_fam(a, 0) != reg_fam(m->mem.index))
			continue;
		for (size_t k = 0; k < i; k++) {
			const cs_x86_op *sm = rec_mem(&f->in[k], NULL);
			if (is_op(&f->in[k], X86_INS_MOVZX, 2, X86_OP_REG, X86_OP_MEM) && op_size(&f->in[k], 1) == 1 &&
			    mem_plain(sm) && reg_fam(sm->mem.base) == reg_fam(m->mem.base) && k + 3 < i &&
			    (f->in[k + 1].id == X86_INS_SHR || f->in[k + 2].id == X86_INS_SHR ||
			     shift_by(f, k))) {
				rec_put(r, "xa_node.shift", sm->mem.disp, 0, 0, 1, K_INT, f->name);
				rec_put(r, "xa_node.slots", op_imm(a, 1) * 8 + m->mem.disp, 0, 0, 512, K_PTRARRAY,
					f->name);
				struct recover_item *it = rec_find(r, "xa_node.slots");
				if (it)
					it->count = 64;
				return;
			}
		}
	}
}

/* __get_task_comm(buf, size, tsk): strscpy(buf, tsk->comm, size). */
static void rule_task_comm(struct rec *r, const struct rfn *f)
{
	for (size_t i = 0; i < f->n; i++) {
		if (!callee_is(r, &f->in[i], "strscpy_pad") && !callee_is(r, &f->in[i], "sized_strscpy") &&
		    !callee_is(r, &f->in[i], "strscpy") && !callee_is(r, &f->in[i], "strncpy"))
			continue;
		struct origin o = rec_origin(r, f, i, 6);
		if (origin_is_arg(o, 2) && o.off > 0) {
			struct recover_item *it;
			rec_put(r, "task_struct.comm", o.off, 0, 0, 16, K_CHARS, f->name);
			if ((it = rec_find(r, "task_struct.comm")))
				it->count = 16;
		}
		return;
	}
}

/* __set_task_comm(tsk, buf, exec): the first copy into tsk->comm (strscpy
 * and kin, or memcpy where it is open-coded, as on 7.x). */
static void rule_set_comm(struct rec *r, const struct rfn *f)
{
	static const char *const copy[] = { "strscpy_pad", "sized_strscpy", "strscpy", "strlcpy",
					    "memcpy", "__memcpy", "__pi_memcpy" };
	for (size_t i = 0; i < f->n; i++) {
		bool is_copy = false;
		for (size_t k = 0; k < sizeof(copy) / sizeof(copy[0]) && !is_copy; k++)
			is_copy = callee_is(r, &f->in[i], copy[k]);
		if (!is_copy)
			continue;
		struct origin o = rec_origin(r, f, i, 7);
		if (origin_is_arg(o, 0) && o.off > 0) {
			struct recover_item *it;
			rec_put(r, "task_struct.comm", o.off, 0, 0, 16, K_CHARS, f->name);
			if ((it = rec_find(r, "task_struct.comm")))
				it->count = 16;
		}
		return;
	}
}

/* mm_update_next_owner(mm): if (mm->owner != current) return; */
static void rule_mm_owner(struct rec *r, const struct rfn *f)
{
	for (size_t i = 0; i < f->n; i++) {
		int64_t off;
		const cs_insn *in = &f->in[i];
		if (in->id != X86_INS_CMP || !rec_mem(in, NULL) || op_size(in, 0) != 8 ||
		    !mem_from_arg(r, f, i, 0, &off))
			continue;
		int other = in->detail->x86.operands[0].type == X86_OP_REG ? op_fam(in, 0) : op_fam(in, 1);
		long d = rec_def(r, f, i, other);
		const cs_x86_op *cm = d >= 0 ? rec_mem(&f->in[d], NULL) : NULL;
		if (cm && cm->mem.segment == X86_REG_GS)
			rec_put(r, "mm_struct.owner", off, 0, 0, 8, K_PTR, f->name);
		return;
	}
}

/* mmput(mm): if (atomic_dec_and_test(&mm->mm_users)) __mmput(mm); */
static void rule_mm_users(struct rec *r, const struct rfn *f)
{
	for (size_t i = 0; i < f->n; i++) {
		int64_t off;
		const cs_insn *in = &f->in[i];
		if ((in->id == X86_INS_DEC || in->id == X86_INS_SUB || in->id == X86_INS_XADD) &&
		    rec_mem(in, NULL) && op_size(in, 0) == 4 && mem_from_arg(r, f, i, 0, &off)) {
			rec_put(r, "mm_struct.mm_users.counter", off, 0, 0, 4, K_SINT, f->name);
			return;
		}
	}
}

/* pgd_alloc(mm): mm->pgd = the page just allocated (what the allocator
 * returned, or the page's address computed from it: + page_offset_base). */
static void rule_mm_pgd(struct rec *r, const struct rfn *f)
{
	for (size_t i = 0; i < f->n; i++) {
		int64_t off;
		const cs_insn *in = &f->in[i];
		if (!is_op(in, X86_INS_MOV, 2, X86_OP_MEM, X86_OP_REG) || op_size(in, 0) != 8 ||
		    !mem_from_arg(r, f, i, 0, &off))
			continue;
		struct origin v = rec_origin(r, f, i, op_fam(in, 1));
		const char *via = v.kind == O_INSN && f->in[v.insn].id == X86_INS_ADD ?
				  rec_rip_name(r, &f->in[v.insn]) : NULL;
		if (v.kind == O_INSN && !v.off && (f->in[v.insn].id == X86_INS_CALL ||
						   (via && !strcmp(via, "page_offset_base"))))
			rec_put(r, "mm_struct.pgd", off, 0, 0, 8, K_PTR, f->name);
		return;
	}
}

/* tdp_mmu_init_sp: set_page_private(virt_to_page(sp->spt), sp):
 * (pa >> PAGE_SHIFT) << log2(sizeof(struct page)) + vmemmap_base. */
static void rule_page(struct rec *r, const struct rfn *f)
{
	for (size_t i = 0; i + 1 < f->n; i++) {
		const cs_insn *a = &f->in[i], *b = &f->in[i + 1];
		if (!is_op(a, X86_INS_SHR, 2, X86_OP_REG, X86_OP_IMM) || op_imm(a, 1) != 12 ||
		    !is_op(b, X86_INS_SHL, 2, X86_OP_REG, X86_OP_IMM) || op_fam(b, 0) != op_fam(a, 0) ||
		    op_imm(b, 1) < 5 || op_imm(b, 1) > 8)
			continue;
		rec_put(r, "page", 0, 0, 0, 1u << op_imm(b, 1), K_SIZE, f->name);
		for (size_t k = i + 2; k < f->n && k < i + 6; k++) {
			const cs_insn *st = &f->in[k];
			const cs_x86_op *m = rec_mem(st, NULL);
			if (is_op(st, X86_INS_MOV, 2, X86_OP_MEM, X86_OP_REG) && op_size(st, 0) == 8 &&
			    mem_plain(m) && reg_fam(m->mem.base) == op_fam(a, 0)) {
				struct origin v = rec_origin(r, f, k, op_fam(st, 1));
				if (origin_is_arg(v, 0) && !v.off)
					rec_put(r, "page.private", m->mem.disp, 0, 0, 8, K_INT, f->name);
				break;
			}
		}
		return;
	}
}

/* mutex_lock fast path: cmpxchg(&lock->owner, 0, current);
 * _raw_write_lock: cmpxchg(&lock->raw_lock.cnts, 0, _QW_LOCKED). */
static void rule_locks(struct rec *r, const struct rfn *f)
{
	for (size_t i = 0; i < f->n; i++) {
		int64_t off;
		const cs_insn *in = &f->in[i];
		if (in->id != X86_INS_CMPXCHG || !rec_mem(in, NULL) || !mem_from_arg(r, f, i, 0, &off))
			continue;
		if (!strcmp(f->name, "mutex_lock") && op_size(in, 0) == 8)
			rec_put(r, "mutex.owner.counter", off, 0, 0, 8, K_SINT, f->name);
		else if (!strcmp(f->name, "_raw_write_lock") && op_size(in, 0) == 4)
			rec_put(r, "rwlock_t.raw_lock.cnts.counter", off, 0, 0, 4, K_SINT, f->name);
		return;
	}
}

/* ---- the rule sets -------------------------------------------------------- */

static const struct rec_rule vmlinux_rules[] = {
	{ "vmlinux", "find_module_all", rule_modules },
	{ "vmlinux", "__find_kallsyms_symbol_value", rule_mod_kallsyms },
	{ "vmlinux", "find_kallsyms_symbol_value", rule_mod_kallsyms },
};

/* vmlinux types read from code once the kvm module's symbols are known. */
static const struct rec_rule vmlinux_late_rules[] = {
	{ "kvm", "kvm_tdp_mmu_put_root", rule_list_head },
	{ "kvm", "gfn_to_memslot", rule_rb_node },
	{ "vmlinux", "xas_start", rule_xarray },
	{ "vmlinux", "__get_task_comm", rule_task_comm },
	{ "vmlinux", "__set_task_comm", rule_set_comm },
	{ "vmlinux", "mm_update_next_owner", rule_mm_owner },
	{ "vmlinux", "mmput", rule_mm_users },
	{ "vmlinux", "pgd_alloc", rule_mm_pgd },
	{ "kvm", "tdp_mmu_init_sp", rule_page },
	{ "vmlinux", "mutex_lock", rule_locks },
	{ "vmlinux", "_raw_write_lock", rule_locks },
};

static const char *const wanted_vmlinux[] = {
	"module.list", "module.name", "module.kallsyms", "mod_kallsyms.symtab",
	"mod_kallsyms.num_symtab", "mod_kallsyms.strtab", "list_head.next", "list_head.prev",
	"rb_node.rb_left", "rb_node.rb_right", "xa_node.shift", "xa_node.slots", "xarray.xa_head",
	"mm_struct.owner", "mm_struct.pgd", "mm_struct.mm_users.counter", "task_struct.comm",
	"page.private", "mutex.owner.counter", "rwlock_t.raw_lock.cnts.counter",
};

const struct rec_ruleset rec_vmlinux_rules = { vmlinux_rules, REC_COUNT(vmlinux_rules), NULL, 0 };
const struct rec_ruleset rec_vmlinux_late_rules = { vmlinux_late_rules, REC_COUNT(vmlinux_late_rules),
						    wanted_vmlinux, REC_COUNT(wanted_vmlinux) };
