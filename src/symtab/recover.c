/* Struct offsets from the kernel's own machine code, for dumps without BTF
 * for kvm.ko (or without any BTF).
 *
 * Each rule disassembles one known function (its extent from kallsyms,
 * bounded), follows registers back to the function's arguments (in linear
 * order, past code that ends in ret/jmp to a branch into the block, through
 * register copies, lea, constant adds and stack spills), and reads the
 * displacement that reveals a member: e.g. gfn_to_hva_memslot(slot, gfn)
 * computes (gfn - slot->base_gfn) << 12 + slot->userspace_addr, so its
 * `sub` and `add` displacements from the first argument are those two
 * offsets.  Where two functions reveal the same member they must agree, or
 * the member is void.  What the code shows decides per kernel (e.g. a per-VM
 * shadow_mmio_value exists only if kvm_mmu_init_vm stores one), never the
 * version string.  The result is checked on the data before it is
 * installed as BTF built with libbpf's writer. */
#define _GNU_SOURCE
#include "symtab/recover.h"

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <capstone/capstone.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "symtab/target.h"

#define REC_MAX_FN_BYTES 32768
#define REC_MAX_INSNS 8192
#define REC_MAX_DEPTH 16
#define REC_MAX_STEPS 4096	/* instructions one register search walks back */
#define REC_MAX_REDIRECTS 32	/* branches it follows back */
#define REC_FN_BUDGET 200000	/* search steps for all rules on one function (the
				   fixtures' largest need about 2000) */
#define REC_MAX_VMS 64		/* VMs and roots checked on the data */
#define REC_MAX_ROOTS 64

/* What a recovered member is, for the BTF built from it. */
enum rec_kind {
	K_INT, K_SINT, K_PTR,
	K_LIST,		/* struct list_head */
	K_XARRAY,	/* struct xarray */
	K_PTRARRAY,	/* COUNT pointers */
	K_NODEARRAY,	/* COUNT structs of STRIDE bytes (rb_node gfn_node[2]) */
	K_MUTEX, K_RWLOCK,
	K_SPINLOCK,	/* spinlock_t (x86's mmu_lock before 5.12) */
	K_BLOB,		/* SIZE bytes of which only the offset matters */
	K_CHARS,	/* char[COUNT] */
	K_SHORTS,	/* s16[COUNT] */
	K_SIZE,		/* not a member: the size of the struct PATH names */
	K_ROOTARRAY,	/* COUNT kvm_mmu_root_info { pgd, hpa } of STRIDE bytes */
};

struct rfn {
	const char *name;
	uint64_t addr;
	cs_insn *in;
	size_t n;
	long *jump_to;	/* per instruction: index of its direct branch target, or -1 */
	bool *target;	/* per instruction: some direct branch goes there */
	long *jumper;	/* per target: the branch to follow back (closest before it) */
	long *budget;	/* steps left for all register searches in this function */
};

struct rec {
	struct target *T;
	csh cs;
	struct recover_report *R;
	bool no_x86ops, no_disable_nx;	/* make_spte showed these do not exist */
};

/* ---- registers ---------------------------------------------------------- */

/* 64-bit register family 0..15 (rax..r15) of any GPR name, or -1. */
static int reg_fam(unsigned r)
{
	switch (r) {
	case X86_REG_AL: case X86_REG_AH: case X86_REG_AX: case X86_REG_EAX: case X86_REG_RAX: return 0;
	case X86_REG_CL: case X86_REG_CH: case X86_REG_CX: case X86_REG_ECX: case X86_REG_RCX: return 1;
	case X86_REG_DL: case X86_REG_DH: case X86_REG_DX: case X86_REG_EDX: case X86_REG_RDX: return 2;
	case X86_REG_BL: case X86_REG_BH: case X86_REG_BX: case X86_REG_EBX: case X86_REG_RBX: return 3;
	case X86_REG_SPL: case X86_REG_SP: case X86_REG_ESP: case X86_REG_RSP: return 4;
	case X86_REG_BPL: case X86_REG_BP: case X86_REG_EBP: case X86_REG_RBP: return 5;
	case X86_REG_SIL: case X86_REG_SI: case X86_REG_ESI: case X86_REG_RSI: return 6;
	case X86_REG_DIL: case X86_REG_DI: case X86_REG_EDI: case X86_REG_RDI: return 7;
	case X86_REG_R8B: case X86_REG_R8W: case X86_REG_R8D: case X86_REG_R8: return 8;
	case X86_REG_R9B: case X86_REG_R9W: case X86_REG_R9D: case X86_REG_R9: return 9;
	case X86_REG_R10B: case X86_REG_R10W: case X86_REG_R10D: case X86_REG_R10: return 10;
	case X86_REG_R11B: case X86_REG_R11W: case X86_REG_R11D: case X86_REG_R11: return 11;
	case X86_REG_R12B: case X86_REG_R12W: case X86_REG_R12D: case X86_REG_R12: return 12;
	case X86_REG_R13B: case X86_REG_R13W: case X86_REG_R13D: case X86_REG_R13: return 13;
	case X86_REG_R14B: case X86_REG_R14W: case X86_REG_R14D: case X86_REG_R14: return 14;
	case X86_REG_R15B: case X86_REG_R15W: case X86_REG_R15D: case X86_REG_R15: return 15;
	default: return -1;
	}
}

/* SysV argument number of a register family, or -1. */
static int fam_arg(int fam)
{
	static const int args[16] = { -1, 3, 2, -1, -1, -1, 1, 0, 4, 5, -1, -1, -1, -1, -1, -1 };
	return fam >= 0 && fam < 16 ? args[fam] : -1;
}

static bool insn_writes(const struct rec *r, const cs_insn *in, int fam)
{
	/* A pop restores what the matching push saved: the value within the
	 * body is unchanged, and epilogue pops sit before code (after a ret)
	 * that still sees the body's value. */
	if (in->id == X86_INS_POP)
		return false;
	if (in->id == X86_INS_CALL) /* caller-saved registers die in a call */
		return fam == 0 || fam == 1 || fam == 2 || fam == 6 || fam == 7 || (fam >= 8 && fam <= 11);
	cs_regs rd, wr;
	uint8_t nrd, nwr;
	if (cs_regs_access(r->cs, in, rd, &nrd, wr, &nwr) != CS_ERR_OK)
		return true; /* unknown: assume the worst */
	for (uint8_t k = 0; k < nwr; k++)
		if (reg_fam(wr[k]) == fam)
			return true;
	return false;
}

static bool insn_ends_flow(const cs_insn *in)
{
	return in->id == X86_INS_RET || in->id == X86_INS_JMP || in->id == X86_INS_UD2 ||
	       in->id == X86_INS_INT3;
}

/* Last instruction before I that writes FAM, or -1: backwards in linear
 * order, except that code ending in ret/jmp is another path, so the walk
 * continues from a branch into the block being walked. */
static long rec_def(const struct rec *r, const struct rfn *f, size_t i, int fam)
{
	long j = (long)i, entered = -1, steps = REC_MAX_STEPS;
	int redirects = 0;
	if (j < (long)f->n && f->target && f->target[j])
		entered = j;
	while (j-- > 0 && steps-- > 0 && (!f->budget || (*f->budget)-- > 0)) {
		/* entered: the earliest branch target walked over, where control
		 * came in if the code before it does not fall through */
		if (insn_ends_flow(&f->in[j]) && f->jumper && entered >= 0 &&
		    f->jumper[entered] >= 0 && redirects++ < REC_MAX_REDIRECTS) {
			j = f->jumper[entered]; /* the branch writes no register */
			entered = f->target[j] ? j : -1;
			continue;
		}
		if (insn_writes(r, &f->in[j], fam))
			return j;
		if (f->target && f->target[j])
			entered = j;
	}
	return -1;
}

static const cs_x86_op *rec_mem(const cs_insn *in, int *opn);
static bool is_op(const cs_insn *in, unsigned id, int n, int t0, int t1);

enum { O_NONE, O_ARG, O_INSN };

struct origin {
	int kind;
	int arg;	/* O_ARG: argument number */
	long insn;	/* O_INSN: the instruction that produced the value */
	int64_t off;	/* constant added on the way */
};

/* Where register FAM's value at instruction I came from: register copies,
 * lea and add/sub of constants are followed back to a function argument
 * or to the instruction that produced it (a load, a call). */
static struct origin rec_origin(const struct rec *r, const struct rfn *f, size_t i, int fam)
{
	struct origin o = { O_NONE, -1, -1, 0 };
	for (int depth = 0; depth < REC_MAX_DEPTH && fam >= 0; depth++) {
		long j = rec_def(r, f, i, fam);
		if (j < 0) {
			o.arg = fam_arg(fam);
			o.kind = o.arg >= 0 ? O_ARG : O_NONE;
			return o;
		}
		const cs_insn *in = &f->in[j];
		const cs_x86 *x = &in->detail->x86;
		const cs_x86_op *a = &x->operands[0], *b = &x->operands[1];
		if (x->op_count == 2 && a->type == X86_OP_REG && reg_fam(a->reg) == fam) {
			if (in->id == X86_INS_MOV && b->type == X86_OP_REG) {
				fam = reg_fam(b->reg);
				i = (size_t)j;
				continue;
			}
			if (in->id == X86_INS_LEA && b->mem.index == X86_REG_INVALID &&
			    reg_fam(b->mem.base) >= 0 && b->mem.segment == X86_REG_INVALID) {
				o.off += b->mem.disp;
				fam = reg_fam(b->mem.base);
				i = (size_t)j;
				continue;
			}
			if ((in->id == X86_INS_ADD || in->id == X86_INS_SUB) && b->type == X86_OP_IMM) {
				o.off += in->id == X86_INS_ADD ? b->imm : -b->imm;
				i = (size_t)j;
				continue;
			}
		}
		/* a register spilled to the stack and reloaded */
		const cs_x86_op *m = rec_mem(in, NULL);
		if (in->id == X86_INS_MOV && x->op_count == 2 && a->type == X86_OP_REG && m &&
		    reg_fam(m->mem.base) == 4 && m->mem.index == X86_REG_INVALID) {
			long s = j;
			while (--s >= 0) {
				const cs_insn *st = &f->in[s];
				const cs_x86_op *sm = rec_mem(st, NULL);
				if (is_op(st, X86_INS_MOV, 2, X86_OP_MEM, X86_OP_REG) && reg_fam(sm->mem.base) == 4 &&
				    sm->mem.disp == m->mem.disp && sm->mem.index == X86_REG_INVALID)
					break;
			}
			if (s >= 0) {
				fam = reg_fam(f->in[s].detail->x86.operands[1].reg);
				i = (size_t)s;
				continue;
			}
		}
		o.kind = O_INSN;
		o.insn = j;
		return o;
	}
	return o;
}

static bool origin_is_arg(struct origin o, int arg)
{
	return o.kind == O_ARG && o.arg == arg;
}

/* The memory operand of an instruction, if any. */
static const cs_x86_op *rec_mem(const cs_insn *in, int *opn)
{
	const cs_x86 *x = &in->detail->x86;
	for (uint8_t k = 0; k < x->op_count; k++)
		if (x->operands[k].type == X86_OP_MEM) {
			if (opn)
				*opn = k;
			return &x->operands[k];
		}
	return NULL;
}

/* A plain [base + disp] operand (no index, segment or RIP). */
static bool mem_plain(const cs_x86_op *m)
{
	return m && m->mem.index == X86_REG_INVALID &&
	       (m->mem.segment == X86_REG_INVALID || m->mem.segment == X86_REG_DS) &&
	       reg_fam(m->mem.base) >= 0 && reg_fam(m->mem.base) != 4;
}

/* Byte offset from argument ARG of instruction I's memory operand. */
static bool mem_from_arg(const struct rec *r, const struct rfn *f, size_t i, int arg, int64_t *off)
{
	const cs_x86_op *m = rec_mem(&f->in[i], NULL);
	if (!mem_plain(m))
		return false;
	struct origin o = rec_origin(r, f, i, reg_fam(m->mem.base));
	if (!origin_is_arg(o, arg))
		return false;
	*off = o.off + m->mem.disp;
	return true;
}

static const char *rec_target_name(const struct rec *r, uint64_t addr)
{
	uint64_t off;
	const char *mod;
	const char *s = target_symbolize(r->T, addr, &off, &mod);
	return s && off == 0 ? s : NULL;
}

/* Name of the function a call/jmp at I goes to. */
static const char *rec_callee(const struct rec *r, const cs_insn *in)
{
	const cs_x86 *x = &in->detail->x86;
	if ((in->id != X86_INS_CALL && in->id != X86_INS_JMP) || x->op_count != 1 ||
	    x->operands[0].type != X86_OP_IMM)
		return NULL;
	return rec_target_name(r, (uint64_t)x->operands[0].imm);
}

static bool callee_is(const struct rec *r, const cs_insn *in, const char *name)
{
	const char *s = rec_callee(r, in);
	return s && !strncmp(s, name, strlen(name)) &&
	       (!s[strlen(name)] || s[strlen(name)] == '.' || !strcmp(s + strlen(name), "_or_report"));
}

/* Symbol a RIP-relative operand names. */
static const char *rec_rip_name(const struct rec *r, const cs_insn *in)
{
	const cs_x86_op *m = rec_mem(in, NULL);
	if (!m || m->mem.base != X86_REG_RIP)
		return NULL;
	return rec_target_name(r, in->address + in->size + (uint64_t)m->mem.disp);
}

static bool is_op(const cs_insn *in, unsigned id, int n, int t0, int t1)
{
	/* t0/t1: X86_OP_* or 0 for any */
	const cs_x86 *x = &in->detail->x86;
	if (in->id != id || x->op_count != n)
		return false;
	if (n >= 1 && t0 && (int)x->operands[0].type != t0)
		return false;
	if (n >= 2 && t1 && (int)x->operands[1].type != t1)
		return false;
	return true;
}

static int64_t op_imm(const cs_insn *in, int k) { return in->detail->x86.operands[k].imm; }
static int op_fam(const cs_insn *in, int k) { return reg_fam(in->detail->x86.operands[k].reg); }
static unsigned op_size(const cs_insn *in, int k) { return in->detail->x86.operands[k].size; }

static int single_bit(int64_t m)
{
	if (m <= 0 || m > 0x80 || (m & (m - 1)))
		return -1;
	return __builtin_ctzll((unsigned long long)m);
}

/* ---- functions ---------------------------------------------------------- */

static uint64_t rec_extent(const struct symtab *t, uint64_t addr)
{
	uint64_t next = UINT64_MAX;
	for (size_t i = 0; i < t->n; i++)
		if (t->addr[i] > addr && t->addr[i] < next)
			next = t->addr[i];
	if (next == UINT64_MAX || next - addr > REC_MAX_FN_BYTES)
		return REC_MAX_FN_BYTES;
	return next - addr;
}

/* Disassemble MODULE's function NAME (or its .part/.constprop/.isra copy). */
static bool rec_fn(struct rec *r, const char *module, const char *name, struct rfn *f)
{
	memset(f, 0, sizeof(*f));
	static const char *const sfx[] = { "", ".part.0", ".constprop.0", ".isra.0" };
	const struct symtab *tab = NULL;
	if (!strcmp(module, "vmlinux"))
		tab = &r->T->vmlinux_syms;
	else if (target_module(r->T, module))
		tab = &target_module(r->T, module)->syms;
	if (!tab)
		return false;
	char full[128];
	uint64_t addr = 0;
	bool found = false;
	for (size_t k = 0; k < sizeof(sfx) / sizeof(sfx[0]) && !found; k++) {
		snprintf(full, sizeof(full), "%s%s", name, sfx[k]);
		found = symtab_lookup(tab, full, &addr);
	}
	if (!found)
		return false;
	uint64_t size = rec_extent(tab, addr);
	uint8_t *buf = malloc(size);
	if (!buf)
		return false;
	/* Code may end before an unreadable page: keep what reads. */
	uint64_t got = 0;
	while (got < size) {
		uint64_t chunk = 4096 - ((addr + got) & 4095);
		if (chunk > size - got)
			chunk = size - got;
		if (!dump_peek(r->T->dump, addr + got, buf + got, chunk))
			break;
		got += chunk;
	}
	if (got)
		f->n = cs_disasm(r->cs, buf, got, addr, REC_MAX_INSNS, &f->in);
	free(buf);
	if (f->n) {
		f->jump_to = malloc(f->n * sizeof(*f->jump_to));
		f->target = calloc(f->n, sizeof(*f->target));
	}
	for (size_t i = 0; f->jump_to && f->target && i < f->n; i++) {
		const cs_x86 *x = &f->in[i].detail->x86;
		f->jump_to[i] = -1;
		if (f->in[i].id == X86_INS_CALL || x->op_count != 1 || x->operands[0].type != X86_OP_IMM ||
		    !cs_insn_group(r->cs, &f->in[i], CS_GRP_JUMP))
			continue;
		uint64_t to = (uint64_t)x->operands[0].imm;
		size_t lo = 0, hi = f->n; /* instructions are sorted by address */
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			if (f->in[mid].address < to)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo < f->n && f->in[lo].address == to) {
			f->jump_to[i] = (long)lo;
			f->target[lo] = true;
		}
	}
	if (f->n)
		f->jumper = malloc(f->n * sizeof(*f->jumper));
	if (f->n && (!f->jump_to || !f->target || !f->jumper)) {
		free(f->jump_to);
		free(f->target);
		free(f->jumper);
		f->jump_to = NULL;
		f->target = NULL;
		f->jumper = NULL;
	}
	/* per target, the branch to it closest before it, else the first after */
	for (size_t i = 0; f->jumper && i < f->n; i++)
		f->jumper[i] = -1;
	for (size_t k = 0; f->jumper && k < f->n; k++) {
		long b = f->jump_to[k];
		if (b < 0)
			continue;
		long p = f->jumper[b];
		if (p < 0 || ((long)k < b && (p > b || (long)k > p)))
			f->jumper[b] = (long)k;
	}
	f->name = name;
	f->addr = addr;
	return f->n > 0;
}

static void rec_fn_free(struct rfn *f)
{
	if (f->in)
		cs_free(f->in, f->n);
	free(f->jump_to);
	free(f->target);
	free(f->jumper);
	memset(f, 0, sizeof(*f));
}

/* ---- the recovered layout ----------------------------------------------- */

static struct recover_item *rec_find(struct rec *r, const char *path)
{
	for (size_t i = 0; i < r->R->nitems; i++)
		if (!strcmp(r->R->items[i].path, path))
			return &r->R->items[i];
	return NULL;
}

static void rec_conflict(struct rec *r, const char *path)
{
	size_t l = strlen(r->R->conflicts);
	snprintf(r->R->conflicts + l, sizeof(r->R->conflicts) - l, "%s%s (functions disagree)",
		 l ? ", " : "", path);
}

/* Record PATH at OFF (bit BIT, BITS wide; 0 0 for whole members) as FROM
 * shows; a second function that disagrees voids the member. */
static void rec_put(struct rec *r, const char *path, int64_t off, uint32_t bit, uint32_t bits,
		    uint32_t size, enum rec_kind kind, const char *from)
{
	if (off < 0 || off > (1 << 20))
		return;
	struct recover_item *it = rec_find(r, path);
	if (it) {
		if (it->off != (uint64_t)off || it->bit != bit || it->bits != bits) {
			if (!it->conflict)
				rec_conflict(r, path);
			it->conflict = true;
			return;
		}
		if (!strstr(it->from, from)) {
			size_t l = strlen(it->from);
			snprintf(it->from + l, sizeof(it->from) - l, ", %s", from);
		}
		return;
	}
	if (r->R->nitems >= RECOVER_MAX_ITEMS)
		return;
	it = &r->R->items[r->R->nitems];
	memset(it, 0, sizeof(*it));
	snprintf(it->path, sizeof(it->path), "%s", path);
	it->off = (uint64_t)off;
	it->bit = bit;
	it->bits = bits;
	it->size = size;
	snprintf(it->from, sizeof(it->from), "%s", from);
	it->kind = kind;
	it->is_size = kind == K_SIZE;
	r->R->nitems++;
}

static bool rec_get(struct rec *r, const char *path, uint64_t *off)
{
	struct recover_item *it = rec_find(r, path);
	if (!it || it->conflict)
		return false;
	*off = it->off;
	return true;
}

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
static bool rule_mmio_value(struct rec *r, const struct rfn *f)
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
static void rec_role_bits(struct rec *r, const char *name, int64_t off, int bit, int bits,
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

/* kvm_tdp_mmu_put_root(kvm, root): refcount_dec_and_test(&root->
 * tdp_mmu_root_count); KVM_BUG_ON(!root->role.invalid); list_del_rcu(
 * &root->link). */
static void rule_put_root(struct rec *r, const struct rfn *f)
{
	for (size_t i = 0; i < f->n; i++) {
		int64_t off;
		const cs_insn *in = &f->in[i];
		if (callee_is(r, in, "__list_del_entry_valid")) {
			struct origin o = rec_origin(r, f, i, 7);
			if (origin_is_arg(o, 1))
				rec_put(r, "kvm_mmu_page.link", o.off, 0, 0, 16, K_LIST, f->name);
			continue;
		}
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
 * root->tdp_mmu_scheduled_root_to_zap = true; root->role.invalid = true; }.
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
		if (callee_is(r, in, "__list_del_entry_valid")) {
			struct origin o = rec_origin(r, f, i, 7);
			if (origin_is_arg(o, 1))
				rec_put(r, "kvm_mmu_page.link", o.off, 0, 0, 16, K_LIST, f->name);
			continue;
		}
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
	const char *s = target_symbolize(r->T, in->address + in->size + (uint64_t)m->mem.disp, off, &mod);
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

/* kvm_mmu_invalidate_begin(kvm[, start, end]): in_progress++, and the range
 * from the arguments (there, or in kvm_mmu_invalidate_range_add from 6.8,
 * whose ranges are gfns). */
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
			    (f->in[k + 1].id == X86_INS_SHR || f->in[k + 2].id == X86_INS_SHR)) {
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

/* pgd_alloc(mm): mm->pgd = the page just allocated. */
static void rule_mm_pgd(struct rec *r, const struct rfn *f)
{
	for (size_t i = 0; i < f->n; i++) {
		int64_t off;
		const cs_insn *in = &f->in[i];
		if (!is_op(in, X86_INS_MOV, 2, X86_OP_MEM, X86_OP_REG) || op_size(in, 0) != 8 ||
		    !mem_from_arg(r, f, i, 0, &off))
			continue;
		struct origin v = rec_origin(r, f, i, op_fam(in, 1));
		if (v.kind == O_INSN && !v.off && f->in[v.insn].id == X86_INS_CALL)
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

/* ---- validation on the data ---------------------------------------------- */

static bool kaddr(uint64_t v) { return v >= 0xffff800000000000ull; }

static bool rec_u64(struct rec *r, uint64_t va, uint64_t *v)
{
	return dump_peek(r->T->dump, va, v, sizeof(*v));
}

/* Members read from one function only, checked on each VM for values KVM
 * can hold; one that does not fit is voided, not used. */
static void rec_plausible(struct rec *r, uint64_t kvm)
{
	static const struct {
		const char *path;
		unsigned size;
		int what;	/* 0 pid, 1 manual-protect caps, 2 ring bytes, 3 bool */
	} checks[] = {
		{ "kvm.userspace_pid", 4, 0 },
		{ "kvm.manual_dirty_log_protect", 8, 1 },
		{ "kvm.dirty_ring_size", 4, 2 },
		{ "kvm.arch.tdp_mmu_enabled", 1, 3 },
		{ "kvm.arch.disable_nx_huge_pages", 1, 3 },
	};
	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		struct recover_item *it = rec_find(r, checks[i].path);
		uint64_t v = 0;
		if (!it || it->conflict || !dump_peek(r->T->dump, kvm + it->off, &v, checks[i].size))
			continue;
		bool ok = checks[i].what == 0 ? v > 0 && v <= 4194304 :	/* PID_MAX_LIMIT */
			  checks[i].what == 1 ? v == 0 || v == 1 || v == 3 :
			  checks[i].what == 2 ? v == 0 || (v >= 4096 && !(v & (v - 1))) : v <= 1;
		if (!ok) {
			it->conflict = true;
			size_t l = strlen(r->R->conflicts);
			snprintf(r->R->conflicts + l, sizeof(r->R->conflicts) - l, "%s%s (does not fit the data)",
				 l ? ", " : "", checks[i].path);
		}
	}
}

/* Walk vm_list and each VM's roots with the recovered offsets: every
 * struct kvm must have a readable mm and memslots, every root a
 * page-aligned table whose struct page points back to it. */
static bool rec_validate(struct rec *r, char *why, size_t len)
{
	uint64_t vm_list = 0, mm = 0, roots = 0, link = 0, spt = 0, memslots = 0, online = 0,
		 word = 0, head, pos;
	static const char *const need[] = { "kvm.vm_list", "kvm.mm", "kvm.arch.tdp_mmu_roots",
					    "kvm_mmu_page.link", "kvm_mmu_page.spt", "kvm.memslots",
					    "kvm.online_vcpus", "kvm_mmu_page.role.word" };
	uint64_t *vals[] = { &vm_list, &mm, &roots, &link, &spt, &memslots, &online, &word };
	size_t l = 0;
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if (!rec_get(r, need[i], vals[i]) && l < len)
			l += (size_t)snprintf(why + l, len - l, "%s%s", l ? ", " : "the code did not reveal ",
					      need[i]);
	if (l)
		return false;
	struct recover_item *lv = rec_find(r, "kvm_mmu_page.role.level");
	if (!target_symbol(r->T, "kvm", "vm_list", &head) &&
	    !target_symbol(r->T, "vmlinux", "vm_list", &head)) {
		snprintf(why, len, "symbol vm_list not found");
		return false;
	}
	/* struct page for page->private, from vmlinux type info */
	struct type_ref page = types_struct(&r->T->types, NULL, "page");
	struct member priv;
	uint64_t vmemmap = 0, psize = types_size(page);
	bool back = types_member(page, "private", &priv) && psize &&
		    target_symbol(r->T, "vmlinux", "vmemmap_base", &vmemmap) &&
		    rec_u64(r, vmemmap, &vmemmap);
	size_t nvm = 0, nroot = 0, nback = 0;
	if (!rec_u64(r, head, &pos)) {
		snprintf(why, len, "vm_list head unreadable");
		return false;
	}
	while (pos != head && nvm < REC_MAX_VMS) {
		uint64_t kvm = pos - vm_list, v, ms;
		uint32_t n;
		if (!rec_u64(r, kvm + mm, &v) || !kaddr(v) || !rec_u64(r, v, &ms)) {
			snprintf(why, len, "struct kvm 0x%llx: kvm.mm at +%llu is not a readable pointer",
				 (unsigned long long)kvm, (unsigned long long)mm);
			return false;
		}
		if (!rec_u64(r, kvm + memslots, &ms) || !kaddr(ms) ||
		    !dump_peek(r->T->dump, kvm + online, &n, sizeof(n)) || n > 4096) {
			snprintf(why, len, "struct kvm 0x%llx: memslots or online_vcpus implausible",
				 (unsigned long long)kvm);
			return false;
		}
		uint64_t rpos, rhead = kvm + roots;
		if (!rec_u64(r, rhead, &rpos)) {
			snprintf(why, len, "struct kvm 0x%llx: root list unreadable", (unsigned long long)kvm);
			return false;
		}
		/* With the TDP MMU off (kvm.tdp_mmu=0) the list is never
		 * initialised: all zero, no TDP root to check. */
		if (!rpos)
			rpos = rhead;
		for (size_t k = 0; rpos != rhead && k < REC_MAX_ROOTS; k++, nroot++) {
			uint64_t sp = rpos - link, table, role = 0, pg;
			if (!rec_u64(r, sp + spt, &table) || !kaddr(table) || (table & 4095) ||
			    !dump_peek(r->T->dump, sp + word, &role, 4)) {
				snprintf(why, len, "root 0x%llx: spt is not a page-aligned table",
					 (unsigned long long)sp);
				return false;
			}
			if (lv) {
				uint64_t level = (role >> lv->bit) & ((1u << lv->bits) - 1);
				if (level < 2 || level > 5) {
					snprintf(why, len, "root 0x%llx: role.level %llu", (unsigned long long)sp,
						 (unsigned long long)level);
					return false;
				}
			}
			uint64_t pa;
			struct err *e = dump_vtop(r->T->dump, table, &pa);
			if (e) {
				err_free(e);
			} else if (back && rec_u64(r, vmemmap + (pa >> 12) * psize + member_off(&priv), &pg)) {
				if (pg != sp) {
					snprintf(why, len, "root 0x%llx: its table's page->private is 0x%llx",
						 (unsigned long long)sp, (unsigned long long)pg);
					return false;
				}
				nback++;
			}
			if (!rec_u64(r, rpos, &rpos))
				break;
		}
		rec_plausible(r, kvm);
		nvm++;
		if (!rec_u64(r, pos, &pos))
			break;
	}
	char mods[64] = "";
	if (r->R->vmlinux) /* what recover_vmlinux_types checked */
		snprintf(mods, sizeof(mods), "; %.60s", r->R->validated);
	if (!nvm)
		snprintf(r->R->validated, sizeof(r->R->validated), "not checked on data: vm_list is "
			 "empty%s", mods);
	else
		snprintf(r->R->validated, sizeof(r->R->validated),
			 "%zu VM(s) on vm_list with readable mm and memslots, %zu root(s) with page-aligned "
			 "tables, %zu pointed back to by page->private%s", nvm, nroot, nback, mods);
	return true;
}

/* ---- BTF synthesis ------------------------------------------------------- */

struct rec_btf {
	struct btf *b;
	int u[9], s[9];	/* ints by size */
	int ptr, list, xarray, mutex, rwlock, spinlock;
};

static int rec_leaf_type(struct rec_btf *bt, const struct recover_item *it)
{
	uint32_t sz = it->bits ? 4 : it->size;
	const struct recover_item *m = it;
	switch ((enum rec_kind)it->kind) {
	case K_INT:
		return sz <= 8 ? bt->u[sz] : -1;
	case K_SINT:
		return sz <= 8 ? bt->s[sz] : -1;
	case K_PTR:
		return bt->ptr;
	case K_LIST:
		return bt->list;
	case K_XARRAY:
		return bt->xarray;
	case K_BLOB: /* a member only its offset is known of */
		return btf__add_struct(bt->b, NULL, it->size);
	case K_CHARS:
		return btf__add_array(bt->b, bt->u[4], bt->u[1], m->count);
	case K_SHORTS:
		return btf__add_array(bt->b, bt->u[4], bt->s[2], m->count);
	case K_SIZE:
		return -1;
	case K_ROOTARRAY: {
		int el = btf__add_struct(bt->b, NULL, m->stride);
		if (el < 0 || btf__add_field(bt->b, "pgd", bt->u[8], 0, 0) < 0 ||
		    btf__add_field(bt->b, "hpa", bt->u[8], 64, 0) < 0)
			return -1;
		return btf__add_array(bt->b, bt->u[4], el, m->count);
	}
	case K_MUTEX:
		return bt->mutex;
	case K_RWLOCK:
		return bt->rwlock;
	case K_SPINLOCK:
		return bt->spinlock > 0 ? bt->spinlock : bt->s[4]; /* its one word */
	case K_PTRARRAY:
		return btf__add_array(bt->b, bt->u[4], bt->ptr, m->count);
	case K_NODEARRAY: {
		int node = btf__add_struct(bt->b, NULL, m->stride);
		return node < 0 ? node : btf__add_array(bt->b, bt->u[4], node, m->count);
	}
	}
	return -1;
}

/* Containers whose offset is that of one member: the role union is its
 * word, refcount_t and atomic_t hold nothing else. */
static const char *const rec_same_offset[][2] = {
	{ "kvm_mmu_page.role", "kvm_mmu_page.role.word" },
	{ "kvm_mmu_page.tdp_mmu_root_count", "kvm_mmu_page.tdp_mmu_root_count.refs.counter" },
	{ "kvm_mmu_page.tdp_mmu_root_count.refs", "kvm_mmu_page.tdp_mmu_root_count.refs.counter" },
	{ "kvm.nr_memslots_dirty_logging", "kvm.nr_memslots_dirty_logging.counter" },
};

/* Bit offset of container PATH ("kvm.arch"): known for the ones above,
 * else the start of the outer struct (only full paths are meaningful). */
static uint64_t rec_container_bits(struct rec *r, const char *path)
{
	for (size_t i = 0; i < sizeof(rec_same_offset) / sizeof(rec_same_offset[0]); i++) {
		uint64_t off;
		if (!strcmp(rec_same_offset[i][0], path) && rec_get(r, rec_same_offset[i][1], &off))
			return off * 8;
	}
	return 0;
}

/* Struct SNAME's members under PREFIX ("" or "arch."), whose container
 * starts at bit BASE of the outer struct: nested prefixes become anonymous
 * structs holding their members, so paths resolve to the same totals as
 * real BTF. */
static int rec_build(struct rec *r, struct rec_btf *bt, const char *sname, const char *prefix,
		     uint64_t size, uint64_t base_bits, int depth)
{
	if (depth > 4)
		return -1;
	char base[96];
	snprintf(base, sizeof(base), "%s.%s", sname, prefix);
	size_t bl = strlen(base);
	int ids[RECOVER_MAX_ITEMS];
	char names[RECOVER_MAX_ITEMS][64];
	bool nested[RECOVER_MAX_ITEMS];
	size_t idx[RECOVER_MAX_ITEMS], n = 0;
	for (size_t i = 0; i < r->R->nitems; i++) {
		const struct recover_item *it = &r->R->items[i];
		if (it->conflict || strncmp(it->path, base, bl))
			continue;
		const char *rest = it->path + bl, *dot = strchr(rest, '.');
		size_t len = dot ? (size_t)(dot - rest) : strlen(rest);
		bool dup = false;
		for (size_t k = 0; k < n; k++)
			if (strlen(names[k]) == len && !strncmp(names[k], rest, len))
				dup = true;
		if (dup || len >= 64)
			continue;
		snprintf(names[n], sizeof(names[n]), "%.*s", (int)len, rest);
		nested[n] = dot != NULL;
		idx[n] = i;
		n++;
	}
	/* types first: libbpf appends fields to the last type added */
	uint64_t cbits[RECOVER_MAX_ITEMS];
	for (size_t k = 0; k < n; k++) {
		if (nested[k]) {
			char sub[96], cpath[160];
			snprintf(sub, sizeof(sub), "%s%s.", prefix, names[k]);
			snprintf(cpath, sizeof(cpath), "%s%s", base, names[k]);
			cbits[k] = rec_container_bits(r, cpath);
			if (cbits[k] < base_bits)
				cbits[k] = base_bits;
			/* the container ends with its last known member */
			uint64_t end = 0;
			char full[200];
			snprintf(full, sizeof(full), "%s.", cpath);
			for (size_t i = 0; i < r->R->nitems; i++) {
				const struct recover_item *it = &r->R->items[i];
				if (!it->conflict && !strncmp(it->path, full, strlen(full)) &&
				    it->off + it->size > end)
					end = it->off + it->size;
			}
			if (end * 8 <= cbits[k])
				return -1;
			ids[k] = rec_build(r, bt, sname, sub, end - cbits[k] / 8, cbits[k], depth + 1);
		} else {
			ids[k] = rec_leaf_type(bt, &r->R->items[idx[k]]);
		}
		if (ids[k] < 0)
			return -1;
	}
	int id = btf__add_struct(bt->b, *prefix ? NULL : sname, (uint32_t)size);
	if (id < 0)
		return id;
	for (size_t k = 0; k < n; k++) {
		const struct recover_item *it = &r->R->items[idx[k]];
		uint64_t abs = nested[k] ? cbits[k] : it->off * 8 + it->bit;
		if (abs < base_bits ||
		    btf__add_field(bt->b, names[k], ids[k], (uint32_t)(abs - base_bits),
				   nested[k] ? 0 : it->bits) < 0)
			return -1;
	}
	return id;
}

/* Build STRUCTS from the recovered items into B (base ids from BASE). */
static struct err *rec_fill(struct rec *r, struct btf *b, const struct btf *base,
			    const char *const *structs, size_t nstructs)
{
	struct rec_btf bt = { .b = b };
	if (base) {
		bt.list = btf__find_by_name_kind(base, "list_head", BTF_KIND_STRUCT);
		bt.xarray = btf__find_by_name_kind(base, "xarray", BTF_KIND_STRUCT);
		bt.mutex = btf__find_by_name_kind(base, "mutex", BTF_KIND_STRUCT);
		bt.spinlock = btf__find_by_name_kind(base, "spinlock_t", BTF_KIND_TYPEDEF);
		bt.rwlock = btf__find_by_name_kind(base, "rwlock_t", BTF_KIND_TYPEDEF);
		if (bt.rwlock <= 0)
			bt.rwlock = btf__find_by_name_kind(base, "rwlock_t", BTF_KIND_STRUCT);
		if (bt.list <= 0 || bt.xarray <= 0 || bt.mutex <= 0 || bt.rwlock <= 0)
			return err_new(ERR_LAYOUT, "vmlinux type info has no list_head, xarray, mutex or "
				       "rwlock_t");
	}
	static const char *const un[9] = { 0, "u8", "u16", 0, "u32", 0, 0, 0, "u64" };
	static const char *const sn[9] = { 0, "s8", "s16", 0, "s32", 0, 0, 0, "s64" };
	for (int s = 1; s <= 8; s *= 2) {
		bt.u[s] = btf__add_int(b, un[s], s, 0);
		bt.s[s] = btf__add_int(b, sn[s], s, BTF_INT_SIGNED);
	}
	bt.ptr = btf__add_ptr(b, 0);
	if (!base) /* vmlinux itself: a list is two pointers */
		bt.list = btf__add_struct(b, NULL, 16);
	for (size_t s = 0; s < nstructs; s++) {
		char pre[64];
		snprintf(pre, sizeof(pre), "%s.", structs[s]);
		uint64_t size = 0, fixed = 0;
		for (size_t i = 0; i < r->R->nitems; i++) {
			const struct recover_item *it = &r->R->items[i];
			if (it->conflict)
				continue;
			if (it->kind == K_SIZE && !strcmp(it->path, structs[s]))
				fixed = it->size;
			else if (!strncmp(it->path, pre, strlen(pre)) && it->off + it->size > size)
				size = it->off + it->size;
		}
		if (!size)
			continue;
		size = (size + 7) & ~7ull;
		if (fixed && fixed >= size)
			size = fixed;
		if (rec_build(r, &bt, structs[s], "", size, 0, 0) < 0)
			return err_new(ERR_LAYOUT, "cannot build type info for struct %s", structs[s]);
	}
	return NULL;
}

static const char *const kvm_structs[] = { "kvm", "kvm_memslots", "kvm_memory_slot", "kvm_mmu_page",
					   "kvm_vcpu", "kvm_mmu", "kvm_dirty_ring", "kvm_dirty_gfn",
					   "kvm_lpage_info", "kvm_x86_ops" };
static const char *const vmlinux_structs[] = { "module", "mod_kallsyms", "list_head", "rb_node",
					       "xa_node", "xarray", "mm_struct", "task_struct",
					       "page", "mutex", "rwlock_t" };

static struct err *rec_install(struct rec *r)
{
	struct btf *b = btf__new_empty_split(r->T->types.vmlinux);
	if (libbpf_get_error(b))
		return err_new(ERR_NOMEM, "cannot create BTF");
	struct err *e = rec_fill(r, b, r->T->types.vmlinux, kvm_structs,
				 sizeof(kvm_structs) / sizeof(kvm_structs[0]));
	if (e) {
		btf__free(b);
		return e;
	}
	return types_add_module_btf(&r->T->types, "kvm", b,
				    "none (offsets recovered heuristically from kvm.ko machine code)");
}

/* The vmlinux types recovered so far, as vmlinux type info. */
static struct err *rec_install_vmlinux(struct rec *r)
{
	struct btf *b = btf__new_empty();
	if (libbpf_get_error(b))
		return err_new(ERR_NOMEM, "cannot create BTF");
	struct err *e = rec_fill(r, b, NULL, vmlinux_structs,
				 sizeof(vmlinux_structs) / sizeof(vmlinux_structs[0]));
	if (e) {
		btf__free(b);
		return e;
	}
	return types_set_vmlinux_btf(&r->T->types, b,
				     "none (offsets recovered heuristically from vmlinux machine code)");
}

/* ---- driver -------------------------------------------------------------- */

struct rec_rule {
	const char *module, *fn;
	void (*rule)(struct rec *, const struct rfn *);
};

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
	/* what `check` reads besides the walk */
	{ "kvm", "make_spte", rule_make_spte_globals },
	{ "kvm", "is_nx_huge_page_enabled", rule_nx_enabled },
	{ "kvm", "kvm_mmu_zap_all", rule_mmu_lock },
	{ "kvm", "kvm_arch_flush_shadow_all", rule_mmu_lock },
	{ "kvm", "kvm_set_memory_region", rule_slots_lock },
	{ "kvm", "kvm_mmu_invalidate_begin", rule_invalidate },
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

/* the shadow MMU's members (shadow_rules[]) */
#include "recover_shadow.c"

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

static bool rec_open(struct rec *r)
{
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &r->cs) != CS_ERR_OK) {
		snprintf(r->R->result, sizeof(r->R->result), "Capstone cannot disassemble x86-64");
		return false;
	}
	cs_option(r->cs, CS_OPT_DETAIL, CS_OPT_ON);
	return true;
}

static void rec_run(struct rec *r, const struct rec_rule *rs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct rfn f;
		long budget = REC_FN_BUDGET;
		if (!rec_fn(r, rs[i].module, rs[i].fn, &f))
			continue;
		f.budget = &budget;
		rs[i].rule(r, &f);
		rec_fn_free(&f);
	}
}

/* Members this kernel's code shows it does not have: without the dirty
 * ring's code (before 5.11) no ring; without the functions of the
 * invalidation range (5.10 counts invalidations, keeps no range) no
 * range; what make_spte shows (rule_make_spte_globals). */
static bool rec_absent(struct rec *r, const char *path)
{
	uint64_t a;
	if ((!strcmp(path, "kvm.dirty_ring_size") || !strncmp(path, "kvm_dirty_", 10) ||
	     !strcmp(path, "kvm_vcpu.dirty_ring")) && !target_symbol(r->T, "kvm", "kvm_dirty_ring_push", &a))
		return true;
	if (!strncmp(path, "kvm.mmu_invalidate_", 19) &&
	    !target_symbol(r->T, "kvm", "kvm_mmu_invalidate_begin", &a) &&
	    !target_symbol(r->T, "kvm", "kvm_mmu_invalidate_range_add", &a))
		return true;
	if (!strcmp(path, "kvm.arch.disable_nx_huge_pages"))
		return r->no_disable_nx;
	if (!strcmp(path, "kvm_x86_ops.cpu_dirty_log_size"))
		return r->no_x86ops;
	return false;
}

static void rec_missing(struct rec *r, const char *const *w, size_t n)
{
	struct recover_report *R = r->R;
	for (size_t i = 0; i < n; i++) {
		uint64_t off;
		const char *bar = strchr(w[i], '|');
		char first[64];
		snprintf(first, sizeof(first), "%.*s", bar ? (int)(bar - w[i]) : 63, w[i]);
		if (rec_get(r, first, &off) || (bar && rec_get(r, bar + 1, &off)) || rec_absent(r, first))
			continue;
		size_t l = strlen(R->missing);
		snprintf(R->missing + l, sizeof(R->missing) - l, "%s%s", l ? ", " : "", first);
	}
}

/* The module list: every entry's name a module name, its symbol table a
 * plausible pointer and count. */
static bool rec_validate_modules(struct rec *r, char *why, size_t len)
{
	uint64_t list, name, ks, nsym, head, pos;
	if (!rec_get(r, "module.list", &list) || !rec_get(r, "module.name", &name) ||
	    !rec_get(r, "module.kallsyms", &ks) || !rec_get(r, "mod_kallsyms.num_symtab", &nsym) ||
	    !target_symbol(r->T, "vmlinux", "modules", &head) || !rec_u64(r, head, &pos)) {
		snprintf(why, len, "the code did not reveal the module list's layout");
		return false;
	}
	size_t n = 0;
	for (; pos != head && n < 1024; n++) {
		char nm[57] = "";
		uint64_t k;
		uint32_t cnt;
		if (!dump_peek(r->T->dump, pos - list + name, nm, 56) || !nm[0] ||
		    strspn(nm, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != strlen(nm)) {
			snprintf(why, len, "module at 0x%llx: no module name at +%llu",
				 (unsigned long long)(pos - list), (unsigned long long)name);
			return false;
		}
		if (!rec_u64(r, pos - list + ks, &k) || (k && (!kaddr(k) ||
		    !dump_peek(r->T->dump, k + nsym, &cnt, 4) || cnt > (1u << 20)))) {
			snprintf(why, len, "module %s: implausible kallsyms", nm);
			return false;
		}
		if (!rec_u64(r, pos, &pos))
			break;
	}
	snprintf(r->R->validated, sizeof(r->R->validated), "%zu module(s) on the module list", n);
	return n > 0;
}

struct err *recover_vmlinux_types(struct target *T)
{
	struct recover_report *R = &T->recovered;
	R->ran = R->vmlinux = true;
	R->inval_gfn = -1;
	struct rec r = { .T = T, .R = R };
	if (!rec_open(&r))
		return NULL;
	rec_run(&r, vmlinux_rules, sizeof(vmlinux_rules) / sizeof(vmlinux_rules[0]));
	cs_close(&r.cs);
	char why[200];
	if (!rec_validate_modules(&r, why, sizeof(why))) {
		snprintf(R->result, sizeof(R->result), "%s", why);
		return NULL;
	}
	struct err *e = rec_install_vmlinux(&r);
	if (e) {
		snprintf(R->result, sizeof(R->result), "%s", e->msg);
		err_free(e);
	}
	return NULL;
}

bool recover_code_clears(struct target *T, const char *module, const char *fn, const char *mask)
{
	struct recover_report R = { 0 };
	struct rec r = { .T = T, .R = &R };
	struct rfn f;
	bool found = false;
	if (!rec_open(&r))
		return false;
	if (rec_fn(&r, module, fn, &f)) {
		for (size_t i = 0; i < f.n && !found; i++) {
			const char *s = rec_rip_name(&r, &f.in[i]);
			if (!s || strcmp(s, mask) || !is_op(&f.in[i], X86_INS_MOV, 2, X86_OP_REG, X86_OP_MEM))
				continue;
			for (size_t k = i + 1; k < f.n && k < i + 4; k++)
				if (f.in[k].id == X86_INS_NOT && op_fam(&f.in[k], 0) == op_fam(&f.in[i], 0) &&
				    rec_def(&r, &f, k, op_fam(&f.in[i], 0)) == (long)i)
					found = true;
		}
		rec_fn_free(&f);
	}
	cs_close(&r.cs);
	return found;
}

struct err *recover_kvm_types(struct target *T)
{
	struct recover_report *R = &T->recovered;
	if (!R->ran)
		R->inval_gfn = -1;
	R->ran = true;
	if (!T->types.vmlinux) {
		if (!*R->result)
			snprintf(R->result, sizeof(R->result), "needs vmlinux type info (for list_head, "
				 "xarray, page and the module list)");
		return NULL;
	}
	struct rec r = { .T = T, .R = R };
	if (!rec_open(&r))
		return NULL;
	bool era_known = false;
	rec_run(&r, rules, sizeof(rules) / sizeof(rules[0]));
	rec_run(&r, shadow_rules, sizeof(shadow_rules) / sizeof(shadow_rules[0]));
	/* The per-VM MMIO value changes how empty SPTEs look: decide it from
	 * kvm_mmu_init_vm or not at all. */
	struct rfn f;
	long budget = REC_FN_BUDGET;
	if (rec_fn(&r, "kvm", "kvm_mmu_init_vm", &f)) {
		era_known = true;
		f.budget = &budget;
		rule_mmio_value(&r, &f);
		rec_fn_free(&f);
	}
	if (R->vmlinux)
		rec_run(&r, vmlinux_late_rules, sizeof(vmlinux_late_rules) / sizeof(vmlinux_late_rules[0]));
	cs_close(&r.cs);
	char why[200];
	if (!era_known) {
		snprintf(R->result, sizeof(R->result), "kvm_mmu_init_vm not found: cannot tell whether "
			 "VMs carry their own MMIO value (SPTE encoding)");
		return NULL;
	}
	struct err *e = NULL;
	/* vmlinux types now complete: reinstall them (no split BTF uses them yet) */
	if (R->vmlinux && (e = rec_install_vmlinux(&r))) {
		snprintf(R->result, sizeof(R->result), "%s", e->msg);
		err_free(e);
		return NULL;
	}
	bool fits = rec_validate(&r, why, sizeof(why));
	R->missing[0] = '\0';
	if (R->vmlinux)
		rec_missing(&r, wanted_vmlinux, sizeof(wanted_vmlinux) / sizeof(wanted_vmlinux[0]));
	rec_missing(&r, wanted, sizeof(wanted) / sizeof(wanted[0]));
	if (*R->conflicts) {
		size_t l = strlen(R->missing);
		snprintf(R->missing + l, sizeof(R->missing) - l, "%s%s", l ? ", " : "", R->conflicts);
	}
	if (!fits) {
		snprintf(R->result, sizeof(R->result), "%s%s",
			 strncmp(why, "the code", 8) ? "recovered offsets do not fit the data: " : "", why);
		return NULL;
	}
	if ((e = rec_install(&r))) {
		snprintf(R->result, sizeof(R->result), "%s", e->msg);
		err_free(e);
		return NULL;
	}
	R->used = true;
	return NULL;
}

void recover_each_function(void (*fn)(void *arg, const char *module, const char *name), void *arg)
{
	const struct { const struct rec_rule *r; size_t n; } sets[] = {
		{ vmlinux_rules, sizeof(vmlinux_rules) / sizeof(vmlinux_rules[0]) },
		{ rules, sizeof(rules) / sizeof(rules[0]) },
		{ shadow_rules, sizeof(shadow_rules) / sizeof(shadow_rules[0]) },
		{ vmlinux_late_rules, sizeof(vmlinux_late_rules) / sizeof(vmlinux_late_rules[0]) },
	};
	for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++)
		for (size_t k = 0; k < sets[i].n; k++)
			fn(arg, sets[i].r[k].module, sets[i].r[k].fn);
	fn(arg, "kvm", "kvm_mmu_init_vm");
}
