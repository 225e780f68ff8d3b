/* vmlinux symbols: kallsyms decoded from the dump's own memory (located by
 * VMCOREINFO or found in the kernel image), a System.map file relocated by KERNELOFFSET, or a live
 * kernel's /proc/kallsyms. */
#ifndef SYMTAB_KALLSYMS_H
#define SYMTAB_KALLSYMS_H

#include "dump/dump.h"
#include "symtab/symtab.h"

/* The vmlinux symbols from the dump's kallsyms: the tables where VMCOREINFO
 * says (6.0+), or found by their own structure in the kernel image; offsets
 * decoded in whichever encoding (absolute, base-relative, position-relative)
 * yields a sorted table that agrees with VMCOREINFO's SYMBOL() entries.  HOW
 * (if not NULL) receives e.g. "VMCOREINFO, position-relative offsets". */
struct err *kallsyms_load(struct dump *d, struct symtab *out, char *how, size_t howlen);
/* The same, ignoring VMCOREINFO's kallsyms keys (tests: both must agree). */
struct err *kallsyms_scan(struct dump *d, struct symtab *out, char *how, size_t howlen);
struct err *sysmap_load(struct dump *d, const char *path, struct symtab *out);
/* A live kernel's /proc/kallsyms (PATH): vmlinux symbols into VMLINUX,
 * "name [module]" lines into one finished table per module in *MODS.
 * Refused when the addresses are hidden (kptr_restrict, no root) or do not
 * belong to the kernel of D's VMCOREINFO. */
struct err *kallsyms_load_proc(struct dump *d, const char *path, struct symtab *vmlinux,
			       struct symtab **mods, size_t *nmods);

#endif
