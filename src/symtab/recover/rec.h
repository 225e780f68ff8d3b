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
 * installed as BTF built with libbpf's writer.
 *
 * The folder's parts: flow.c (instruction data flow), rules-kvm.c and
 * rules-vmlinux.c (one rule per function, registered in a rule set),
 * validate.c (the layout on the data), btf.c (BTF synthesis), driver.c.
 * Its input is narrow (struct recover_input: dump, symbols, types). */
#ifndef SYMTAB_RECOVER_REC_H
#define SYMTAB_RECOVER_REC_H

#include <capstone/capstone.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "symtab/recover.h"

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
	K_LONGS,	/* u64[COUNT] (a bitmap) */
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
	const struct recover_input *in;
	csh cs;
	struct recover_report *R;
	bool no_x86ops, no_disable_nx;	/* make_spte showed these do not exist */
};

/* A rule reads what FN of MODULE reveals. */
struct rec_rule {
	const char *module, *fn;
	void (*rule)(struct rec *, const struct rfn *);
};

/* One file's rules, run in order, and the members they are there for ("a|b":
 * either, the containers and counts of two eras), for the report.  The
 * driver runs the registered sets in the order it lists them. */
struct rec_ruleset {
	const struct rec_rule *rules;
	size_t n;
	const char *const *wanted;
	size_t nwanted;
};

#define REC_COUNT(a) (sizeof(a) / sizeof((a)[0]))

extern const struct rec_ruleset rec_kvm_rules;		/* rules-kvm.c */
extern const struct rec_ruleset rec_shadow_rules;	/* rules-shadow.c: the shadow MMU */
extern const struct rec_ruleset rec_vmlinux_rules;	/* rules-vmlinux.c: the module list */
extern const struct rec_ruleset rec_vmlinux_late_rules;	/* once kvm's symbols are known */

/* ---- flow.c -------------------------------------------------------------- */

enum { O_NONE, O_ARG, O_INSN };

struct origin {
	int kind;
	int arg;	/* O_ARG: argument number */
	long insn;	/* O_INSN: the instruction that produced the value */
	int64_t off;	/* constant added on the way */
};

int reg_fam(unsigned r);
bool insn_ends_flow(const cs_insn *in);
/* Whether IN writes register family FAM (a call clobbers the caller-saved ones). */
bool insn_writes(const struct rec *r, const cs_insn *in, int fam);
long rec_def(const struct rec *r, const struct rfn *f, size_t i, int fam);
struct origin rec_origin(const struct rec *r, const struct rfn *f, size_t i, int fam);
bool origin_is_arg(struct origin o, int arg);
const cs_x86_op *rec_mem(const cs_insn *in, int *opn);
bool mem_plain(const cs_x86_op *m);
bool mem_from_arg(const struct rec *r, const struct rfn *f, size_t i, int arg, int64_t *off);
bool callee_is(const struct rec *r, const cs_insn *in, const char *name);
const char *rec_rip_name(const struct rec *r, const cs_insn *in);
bool is_op(const cs_insn *in, unsigned id, int n, int t0, int t1);
int single_bit(int64_t m);
bool rec_fn(struct rec *r, const char *module, const char *name, struct rfn *f);
void rec_fn_free(struct rfn *f);
static inline int64_t op_imm(const cs_insn *in, int k)
{
	return in->detail->x86.operands[k].imm;
}
static inline int op_fam(const cs_insn *in, int k)
{
	return reg_fam(in->detail->x86.operands[k].reg);
}
static inline unsigned op_size(const cs_insn *in, int k)
{
	return in->detail->x86.operands[k].size;
}

/* ---- driver.c: the recovered layout and the input ------------------------ */

struct recover_item *rec_find(struct rec *r, const char *path);
void rec_put(struct rec *r, const char *path, int64_t off, uint32_t bit, uint32_t bits,
	     uint32_t size, enum rec_kind kind, const char *from);
bool rec_get(struct rec *r, const char *path, uint64_t *off);
/* Say that functions disagree on PATH (the caller voids it). */
void rec_conflict(struct rec *r, const char *path);
/* Symbol NAME of MODULE ("vmlinux" or a module name). */
bool rec_symbol(const struct rec *r, const char *module, const char *name, uint64_t *addr);

/* ---- rules-kvm.c ----------------------------------------------------------- */

/* kvm_mmu_init_vm: whether VMs carry their own MMIO value. */
bool rule_mmio_value(struct rec *r, const struct rfn *f);
/* A role bit at byte OFF, bit BIT, as a member of the role union. */
void rec_role_bits(struct rec *r, const char *name, int64_t off, int bit, int bits, const char *from);

/* ---- validate.c ------------------------------------------------------------ */

bool rec_validate(struct rec *r, char *why, size_t len);
bool rec_validate_modules(struct rec *r, char *why, size_t len);

/* ---- btf.c ----------------------------------------------------------------- */

struct err *rec_install(struct rec *r);
struct err *rec_install_vmlinux(struct rec *r);

#endif
