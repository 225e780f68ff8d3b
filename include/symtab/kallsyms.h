/* vmlinux symbols: kallsyms decoded from the dump's own memory (located by
 * VMCOREINFO), or a System.map file relocated by KERNELOFFSET. */
#ifndef SYMTAB_KALLSYMS_H
#define SYMTAB_KALLSYMS_H

#include "dump/dump.h"
#include "symtab/symtab.h"

struct err *kallsyms_load(struct dump *d, struct symtab *out);
struct err *sysmap_load(struct dump *d, const char *path, struct symtab *out);

#endif
