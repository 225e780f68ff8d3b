/* vmlinux symbols: kallsyms decoded from the dump's own memory (located by
 * VMCOREINFO), a System.map file relocated by KERNELOFFSET, or a live
 * kernel's /proc/kallsyms. */
#ifndef SYMTAB_KALLSYMS_H
#define SYMTAB_KALLSYMS_H

#include "dump/dump.h"
#include "symtab/symtab.h"

struct err *kallsyms_load(struct dump *d, struct symtab *out);
struct err *sysmap_load(struct dump *d, const char *path, struct symtab *out);
/* A live kernel's /proc/kallsyms (PATH): vmlinux symbols into VMLINUX,
 * "name [module]" lines into one finished table per module in *MODS.
 * Refused when the addresses are hidden (kptr_restrict, no root) or do not
 * belong to the kernel of D's VMCOREINFO. */
struct err *kallsyms_load_proc(struct dump *d, const char *path, struct symtab *vmlinux,
			       struct symtab **mods, size_t *nmods);

#endif
