/* Type-info-free operation: when the dump has no BTF for kvm.ko (kernel
 * without CONFIG_DEBUG_INFO_BTF_MODULES, or module BTF that does not parse)
 * and no --module file supplies it, the few struct offsets the analysis
 * needs are recovered from the machine code of known KVM functions in the
 * dump (Capstone), cross-checked where two functions should agree, checked
 * on the data (vm_list, roots, memslots), and handed to the layers above as
 * a synthesized BTF for "kvm" holding just those members.  A member the code
 * does not reveal is absent, so what needs it reports itself unavailable. */
#ifndef SYMTAB_RECOVER_H
#define SYMTAB_RECOVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "dump/dump.h"
#include "symtab/symtab.h"
#include "symtab/types.h"

#define RECOVER_MAX_ITEMS 128

struct recover_item {
	char path[64];		/* "kvm.vm_list", "kvm_mmu_page.role.invalid" */
	uint64_t off;		/* bytes from the start of the struct */
	uint32_t bit, bits;	/* bit within OFF and width for bitfields, else 0 */
	uint32_t size;		/* bytes */
	char from[160];		/* the functions it was read from, "a, b" */
	int kind;		/* for the synthesized BTF (recover/btf.c) */
	uint32_t count, stride;	/* arrays */
	bool conflict;		/* two functions disagreed: not used */
	bool is_size;		/* PATH names a struct and SIZE is its size */
};

struct recover_report {
	bool ran;		/* recovery was attempted */
	bool used;		/* and its layout is installed as "kvm" type info */
	bool vmlinux;		/* vmlinux types were recovered too (no vmlinux BTF) */
	char why[160];		/* what type info was missing */
	char result[256];	/* "", or why the recovered layout was refused */
	char validated[512];	/* what on the data confirmed it */
	struct recover_item items[RECOVER_MAX_ITEMS];
	size_t nitems;
	char missing[512];	/* members the code did not reveal, comma-separated */
	int inval_gfn;		/* mmu_invalidate ranges are gfns (1), hvas (0), unknown (-1) */
	char conflicts[256];	/* members two functions disagreed on */
};

/* What recovery reads and where it puts its result: the dump, symbol lookup,
 * type lookup (recovered types are installed there), the report.  Not the
 * half-built target: the caller (target_open) decides the stage order. */
struct recover_input {
	struct dump *dump;
	struct types *types;
	/* MODULE's symbol table ("vmlinux" or a module name), NULL if not loaded */
	const struct symtab *(*symtab)(void *ctx, const char *module);
	/* the symbol containing ADDR in any table (*MODULE: NULL for vmlinux) */
	const char *(*symbolize)(void *ctx, uint64_t addr, uint64_t *off, const char **module);
	void *ctx;
	struct recover_report *report;
};

/* Without vmlinux BTF: the module list's layout from vmlinux code, as
 * vmlinux type info, so module symbols can be loaded. */
struct err *recover_vmlinux_types(const struct recover_input *in);
/* Recover kvm's layout and install it in IN->types as module "kvm" (and,
 * after recover_vmlinux_types, the vmlinux types the analysis reads).
 * Never fails the open: a refusal is recorded in IN->report->result. */
struct err *recover_kvm_types(const struct recover_input *in);

/* Whether MODULE's function FN clears the bits of global MASK: loads it
 * and inverts it (mask = ~MASK, ANDed in).  False if FN does not exist or
 * its code cannot be read. */
bool recover_code_clears(const struct recover_input *in, const char *module, const char *fn,
			 const char *mask);
/* Every function recovery reads, as (MODULE, NAME): an extract keeps their
 * code so that recovery gives the same answer on it. */
void recover_each_function(void (*fn)(void *arg, const char *module, const char *name), void *arg);

#endif
