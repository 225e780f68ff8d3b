/* Instruction data flow over one disassembled function: where a register's
 * value came from (an argument, a load, a call), memory operands, callees
 * and RIP-relative symbols, and the disassembly itself (bounded). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rec.h"

/* ---- registers ---------------------------------------------------------- */

/* 64-bit register family 0..15 (rax..r15) of any GPR name, or -1. */
int reg_fam(unsigned r)
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

bool insn_writes(const struct rec *r, const cs_insn *in, int fam)
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

bool insn_ends_flow(const cs_insn *in)
{
	return in->id == X86_INS_RET || in->id == X86_INS_JMP || in->id == X86_INS_UD2 ||
	       in->id == X86_INS_INT3;
}

/* Last instruction before I that writes FAM, or -1: backwards in linear
 * order, except that code ending in ret/jmp is another path, so the walk
 * continues from a branch into the block being walked. */
long rec_def(const struct rec *r, const struct rfn *f, size_t i, int fam)
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


/* Where register FAM's value at instruction I came from: register copies,
 * lea and add/sub of constants are followed back to a function argument
 * or to the instruction that produced it (a load, a call). */
struct origin rec_origin(const struct rec *r, const struct rfn *f, size_t i, int fam)
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

bool origin_is_arg(struct origin o, int arg)
{
	return o.kind == O_ARG && o.arg == arg;
}

/* The memory operand of an instruction, if any. */
const cs_x86_op *rec_mem(const cs_insn *in, int *opn)
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
bool mem_plain(const cs_x86_op *m)
{
	return m && m->mem.index == X86_REG_INVALID &&
	       (m->mem.segment == X86_REG_INVALID || m->mem.segment == X86_REG_DS) &&
	       reg_fam(m->mem.base) >= 0 && reg_fam(m->mem.base) != 4;
}

/* Byte offset from argument ARG of instruction I's memory operand. */
bool mem_from_arg(const struct rec *r, const struct rfn *f, size_t i, int arg, int64_t *off)
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
	const char *s = r->in->symbolize(r->in->ctx, addr, &off, &mod);
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

bool callee_is(const struct rec *r, const cs_insn *in, const char *name)
{
	const char *s = rec_callee(r, in);
	return s && !strncmp(s, name, strlen(name)) &&
	       (!s[strlen(name)] || s[strlen(name)] == '.' || !strcmp(s + strlen(name), "_or_report"));
}

/* Symbol a RIP-relative operand names. */
const char *rec_rip_name(const struct rec *r, const cs_insn *in)
{
	const cs_x86_op *m = rec_mem(in, NULL);
	if (!m || m->mem.base != X86_REG_RIP)
		return NULL;
	return rec_target_name(r, in->address + in->size + (uint64_t)m->mem.disp);
}

bool is_op(const cs_insn *in, unsigned id, int n, int t0, int t1)
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


int single_bit(int64_t m)
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
bool rec_fn(struct rec *r, const char *module, const char *name, struct rfn *f)
{
	memset(f, 0, sizeof(*f));
	static const char *const sfx[] = { "", ".part.0", ".constprop.0", ".isra.0" };
	const struct symtab *tab = r->in->symtab(r->in->ctx, module);
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
		if (!dump_peek(r->in->dump, addr + got, buf + got, chunk))
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

void rec_fn_free(struct rfn *f)
{
	if (f->in)
		cs_free(f->in, f->n);
	free(f->jump_to);
	free(f->target);
	free(f->jumper);
	memset(f, 0, sizeof(*f));
}
