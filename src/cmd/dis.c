/* `dis SYMBOL|ADDRESS|cpuN [COUNT]`: kernel or module code from the dump,
 * disassembled with Capstone, call/jump targets and RIP-relative data named,
 * in crash's `dis` layout. */
#include <capstone/capstone.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/session.h"

#define DIS_MAX_BYTES 65536
#define DIS_DEFAULT_FALLBACK 256	/* bytes when the symbol's end is unknown */

/* "sym", "module:sym", "sym+0x10", "0xffff..." or "cpuN" (saved RIP).
 * Whatever the user named that the dump does not have (no such symbol, CPU
 * or mapped address) is a usage error, exit 8; a dump that cannot give the
 * bytes of what exists is fatal, exit 4. */
static struct err *dis_resolve(struct session *s, const char *spec, uint64_t *addr)
{
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", spec);
	char *end;
	if (!strncmp(buf, "cpu", 3) && buf[3] >= '0' && buf[3] <= '9') {
		errno = 0;
		unsigned long cpu = strtoul(buf + 3, &end, 10);
		if (errno || *end || cpu > 0xffffffffUL)
			return err_new(ERR_USAGE, "dis: '%s' is not cpuN", spec);
		struct err *e = dump_cpu_reg(s->T->dump, (unsigned)cpu, "rip", addr);
		if (e) {
			e->kind = ERR_USAGE;
			return err_wrap(e, "dis: %s", spec);
		}
		return NULL;
	}
	errno = 0;
	uint64_t v = strtoull(buf, &end, 0);
	if (!errno && !*end && end != buf) {
		*addr = v;
		return NULL;
	}
	uint64_t off = 0;
	char *plus = strchr(buf, '+');
	if (plus) {
		*plus = '\0';
		errno = 0;
		off = strtoull(plus + 1, &end, 0);
		if (errno || *end || end == plus + 1)
			return err_new(ERR_USAGE, "dis: '%s': the offset is not a number", spec);
	}
	char *colon = strchr(buf, ':');
	const char *mod = NULL, *name = buf;
	if (colon) {
		*colon = '\0';
		mod = buf;
		name = colon + 1;
	}
	if (!target_symbol(s->T, mod, name, addr))
		return err_new(ERR_USAGE, "dis: no symbol '%s'%s%s", name, mod ? " in " : "", mod ? mod : "");
	*addr += off;
	return NULL;
}

/* Bytes from ADDR to the next symbol: the function's extent as kallsyms
 * knows it. */
static uint64_t dis_extent(struct session *s, uint64_t addr)
{
	const struct symtab *tabs[65];
	size_t nt = 0;
	tabs[nt++] = &s->T->vmlinux_syms;
	for (size_t i = 0; i < s->T->nmods && nt < 65; i++)
		tabs[nt++] = &s->T->mods[i].syms;
	uint64_t next = UINT64_MAX;
	for (size_t t = 0; t < nt; t++)
		for (size_t i = 0; i < tabs[t]->n; i++) {
			uint64_t a = tabs[t]->addr[i];
			if (a > addr && a < next)
				next = a;
		}
	return next == UINT64_MAX || next - addr > DIS_MAX_BYTES ? DIS_DEFAULT_FALLBACK : next - addr;
}

static void dis_sym(struct session *s, uint64_t addr, char *buf, size_t len)
{
	uint64_t off;
	const char *mod;
	const char *name = target_symbolize(s->T, addr, &off, &mod);
	if (!name || off > 0x100000) {
		buf[0] = '\0';
		return;
	}
	char offs[24] = "";
	if (off) /* "sym+0" reads worse than "sym" */
		snprintf(offs, sizeof(offs), "+%" PRIu64, off);
	snprintf(buf, len, "%s%s%s%s%s", name, offs, mod ? " [" : "", mod ? mod : "", mod ? "]" : "");
}

/* dis -r: the instructions from the start of ADDR's function up to the one
 * at ADDR (the last COUNT of them), as crash's `dis -r`: found by decoding
 * forward from the symbol, so the window starts on an instruction boundary.
 * Returns the window's first address and its length in instructions. */
static struct err *dis_reverse(struct session *s, const char *spec, uint64_t addr, uint64_t count,
			       uint64_t *start, uint64_t *n)
{
	uint64_t off;
	const char *mod;
	const char *name = target_symbolize(s->T, addr, &off, &mod);
	if (!name || off > DIS_MAX_BYTES - 16)
		return err_new(ERR_USAGE, "dis -r: no function symbol contains %s", spec);
	uint64_t from = addr - off, size = off + 16;
	uint8_t *code = malloc(size);
	if (!code)
		return err_new(ERR_NOMEM, "out of memory");
	struct err *e = dump_read_virt(s->T->dump, from, code, off + 1);
	if (e) {
		free(code);
		return err_wrap(e, "dis -r %s (from %s+0)", spec, name);
	}
	/* the tail past ADDR only completes the last instruction; it may be unreadable */
	struct err *tail = dump_read_virt(s->T->dump, addr + 1, code + off + 1, 15);
	if (tail) {
		err_free(tail);
		memset(code + off + 1, 0, 15);
	}
	csh h;
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK) {
		free(code);
		return err_new(ERR_OS, "capstone: cannot open an x86-64 disassembler");
	}
	cs_insn *insn = cs_malloc(h);
	uint64_t *at = malloc((off + 1) * sizeof(*at)), k = 0, pc = from;
	const uint8_t *p = code;
	size_t left = size;
	while (at && pc <= addr && left) {
		at[k++] = pc;
		if (!cs_disasm_iter(h, &p, &left, &pc, insn)) { /* one "(bad)" byte, as dis shows it */
			p++;
			left--;
			pc++;
		}
	}
	cs_free(insn, 1);
	cs_close(&h);
	free(code);
	if (!at)
		return err_new(ERR_NOMEM, "out of memory");
	if (!k) { /* cannot happen: FROM <= ADDR, SIZE > 0; said rather than assumed */
		free(at);
		return err_new(ERR_USAGE, "dis -r: nothing to show before %s", spec);
	}
	uint64_t first = count && count < k ? k - count : 0;
	*start = at[first];
	*n = k - first;
	free(at);
	return NULL;
}

struct err *cmd_dis(struct session *s, int argc, char **argv)
{
	if (argc < 2 || argc > 3)
		return err_new(ERR_USAGE, "dis: expected SYMBOL|ADDRESS|cpuN [COUNT]");
	uint64_t addr, count = 0;
	struct err *e = dis_resolve(s, argv[1], &addr);
	if (e)
		return e;
	uint64_t pa;
	if ((e = dump_vtop(s->T->dump, addr, &pa))) {
		e->kind = ERR_USAGE;
		return err_wrap(e, "dis: %s is not a mapped kernel address", argv[1]);
	}
	if (argc == 3) {
		char *end;
		count = strtoull(argv[2], &end, 0);
		if (*end || end == argv[2] || !count || count > 100000)
			return err_new(ERR_USAGE, "dis: COUNT '%s' is not an instruction count", argv[2]);
	}
	if ((e = target_complete(s->T))) /* extents and call targets */
		return e;
	if (s->dis_reverse && (e = dis_reverse(s, argv[1], addr, count, &addr, &count)))
		return e;
	uint64_t size = count ? count * 15 : dis_extent(s, addr);
	if (size > DIS_MAX_BYTES)
		size = DIS_MAX_BYTES;
	uint8_t *code = malloc(size);
	if (!code)
		return err_new(ERR_NOMEM, "out of memory");
	/* Code near the end of a mapping: shrink to what is readable. */
	while ((e = dump_read_virt(s->T->dump, addr, code, size)) && size > 16) {
		err_free(e);
		e = NULL;
		size = size > 4096 ? size / 2 : size - 16;
	}
	if (e) {
		free(code);
		return err_wrap(e, "dis 0x%" PRIx64, addr);
	}
	csh h;
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK) {
		free(code);
		return err_new(ERR_OS, "capstone: cannot open an x86-64 disassembler");
	}
	cs_option(h, CS_OPT_DETAIL, CS_OPT_ON);
	if (s->dis_att)
		cs_option(h, CS_OPT_SYNTAX, CS_OPT_SYNTAX_ATT);
	cs_insn *insn = cs_malloc(h);
	const uint8_t *p = code;
	size_t left = size;
	uint64_t pc = addr, n = 0;
	if (s->json) {
		out_open(s, "dis", NULL, NULL);
		json_khex(&s->j, "address", addr);
		out_list_open(s, "instructions");
	}
	char sym[160], tsym[160];
	while ((!count || n < count) && left) {
		n++;
		if (!cs_disasm_iter(h, &p, &left, &pc, insn)) {
			/* undecodable (data, or a torn page): one byte, as objdump's (bad) */
			dis_sym(s, pc, sym, sizeof(sym));
			if (s->json) {
				json_obj_begin(&s->j);
				json_khex(&s->j, "address", pc);
				json_kstr(&s->j, "symbol", sym[0] ? sym : NULL);
				char hex[3];
				snprintf(hex, sizeof(hex), "%02x", *p);
				json_kstr(&s->j, "bytes", hex);
				json_kstr(&s->j, "mnemonic", "(bad)");
				json_kstr(&s->j, "operands", "");
				json_obj_end(&s->j);
			} else {
				fprintf(s->out, "0x%" PRIx64 " <%s>:\t(bad)   .byte 0x%02x\n", pc, sym, *p);
			}
			p++;
			left--;
			pc++;
			continue;
		}
		uint64_t target = 0;
		const cs_x86 *x = &insn->detail->x86;
		for (int i = 0; i < x->op_count; i++) {
			if (x->operands[i].type == X86_OP_IMM && (cs_insn_group(h, insn, CS_GRP_JUMP) ||
								  cs_insn_group(h, insn, CS_GRP_CALL)))
				target = (uint64_t)x->operands[i].imm;
			else if (x->operands[i].type == X86_OP_MEM && x->operands[i].mem.base == X86_REG_RIP)
				target = insn->address + insn->size + (uint64_t)x->operands[i].mem.disp;
		}
		dis_sym(s, insn->address, sym, sizeof(sym));
		tsym[0] = '\0';
		if (target)
			dis_sym(s, target, tsym, sizeof(tsym));
		if (s->json) {
			json_obj_begin(&s->j);
			json_khex(&s->j, "address", insn->address);
			json_kstr(&s->j, "symbol", sym[0] ? sym : NULL);
			char hex[3 * 16 + 1] = "";
			for (int i = 0; i < insn->size && i < 16; i++)
				snprintf(hex + 2 * i, sizeof(hex) - 2 * (size_t)i, "%02x", insn->bytes[i]);
			json_kstr(&s->j, "bytes", hex);
			json_kstr(&s->j, "mnemonic", insn->mnemonic);
			json_kstr(&s->j, "operands", insn->op_str);
			if (target) {
				json_khex(&s->j, "target", target);
				json_kstr(&s->j, "target_symbol", tsym[0] ? tsym : NULL);
			}
			json_obj_end(&s->j);
		} else {
			fprintf(s->out, "0x%" PRIx64 " <%s>:\t%-7s %s", insn->address, sym, insn->mnemonic,
				insn->op_str);
			if (tsym[0])
				fprintf(s->out, " <%s>", tsym);
			fputc('\n', s->out);
		}
	}
	cs_free(insn, 1);
	cs_close(&h);
	free(code);
	if (s->json) /* the listing is the answer: no INCOMPLETE trailer in text */
		out_close(s);
	return NULL;
}
