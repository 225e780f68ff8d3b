/* The analysed kernel: its dump, symbols (vmlinux and modules) and types,
 * assembled in the order each needs the previous one:
 * VMCOREINFO -> kallsyms -> vmlinux BTF -> module list -> module symbols/BTF.
 * A live kernel (/proc/kcore) gives symbols from /proc/kallsyms and BTF from
 * /sys/kernel/btf/{vmlinux,MODULE} first; its memory is the fallback. */
#ifndef SYMTAB_TARGET_H
#define SYMTAB_TARGET_H

#include <stdbool.h>
#include <stdint.h>

#include "base/live.h"
#include "dump/dump.h"
#include "symtab/recover.h"
#include "symtab/symtab.h"
#include "symtab/types.h"

struct target_opts {
	const char *vmlinux;	/* file with .BTF (and symbols unless sysmap) */
	const char *sysmap;	/* System.map, when the dump has no kallsyms */
	const char **module_files;	/* .ko files with .BTF */
	size_t nmodule_files;
	/* live: symbols and types from the kernel's memory, as from a dump,
	 * not /proc/kallsyms and /sys/kernel/btf (an extract must hold them) */
	bool from_memory;
	/* threads reading the dump (-J): 0 or 1, the caller's alone; more,
	 * that many less one read pages ahead of it (dump_readahead_start) */
	unsigned jobs;
};

#define TARGET_MOD_RANGES 8

struct target_module {
	uint64_t addr;		/* struct module */
	struct symtab syms;	/* read on the first lookup (target_open reads KVM's) */
	/* its memory (mem[] from 6.4, core_layout before): target_symbolize
	 * reads the symbols of the module holding an address only */
	uint64_t lo[TARGET_MOD_RANGES], hi[TARGET_MOD_RANGES];
	int nranges;
};

/* A module's BTF on btf_modules, not read yet (target_complete reads it). */
struct target_btf_later {
	char name[64];
	uint64_t btf;		/* its struct btf */
};

/* The modules whose symbols and types the analysis reads, read at opening;
 * every other module's are read when asked for (a host loads a hundred
 * modules: reading all of them was most of opening it). */
extern const char *const target_kvm_modules[];
bool target_is_kvm_module(const char *name);

struct target {
	struct dump *dump;
	char release[65];
	struct symtab vmlinux_syms;
	char *syms_source;
	struct target_module *mods;
	size_t nmods;
	struct types types;
	uint64_t page_offset_base;
	uint64_t physical_mask;		/* address bits of a PTE/SPTE */
	struct symtab *proc_mods;	/* live: module symbols from /proc/kallsyms, */
	size_t nproc_mods;		/* moved into mods[] as the module list is read */
	char module_btf_problems[256];	/* module BTF that was absent or refused */
	struct target_btf_later *btf_later;	/* other modules' BTF, for target_complete */
	size_t nbtf_later;
	struct recover_report recovered;	/* offsets from machine code, if any */
	struct live_stats live;		/* live targets: what re-reading did */
	bool from_memory;		/* target_opts.from_memory */
};

struct err *target_open(const char *path, const struct target_opts *o, struct target **out);
/* The input offset recovery reads (T's dump, symbols, types, T->recovered). */
struct recover_input target_recover_input(struct target *T);
void target_close(struct target *T);

/* Symbol in MODULE ("vmlinux", a module name, or NULL for anywhere). */
bool target_symbol(const struct target *T, const char *module, const char *name, uint64_t *addr);
/* Every symbol in T's tables and every module's BTF, for what iterates over
 * them (`dis`'s extent, completion, `info`, an extract): vmlinux's kallsyms
 * and the modules other than KVM's are otherwise read on demand.  A module
 * whose BTF cannot be read has none (as at opening); a symbol table that
 * cannot be read is an error. */
struct err *target_complete(struct target *T);
/* Name of the symbol containing ADDR ("module:sym" for modules). */
const char *target_symbolize(const struct target *T, uint64_t addr, uint64_t *off,
			     const char **module);
const struct target_module *target_module(const struct target *T, const char *name);

/* Read SIZE bytes of a kernel object into a new buffer. */
struct err *target_read_obj(struct target *T, uint64_t va, size_t size, void **buf);
/* The same for an object a live host may change while it is read: read it
 * twice and again (at most DUMP_LIVE_TRIES reads) until the members KEYS
 * agree between two reads, ERR_CHANGED if they never do.  Other bytes (locks,
 * counters) may differ.  One plain read on a dump. */
struct err *target_read_obj_stable(struct target *T, uint64_t va, size_t size,
				   const struct member *const *keys, size_t nkeys, void **buf);
/* Resolve a member a layout cannot do without; the error names it. */
struct err *target_need_member(struct type_ref t, const char *tname, const char *path,
			       struct member *m);

#endif
