/* The stages of opening a target, each needing the previous ones, for
 * target_open (open.c), which also runs offset recovery between them. */
#ifndef SYMTAB_TARGET_STAGES_H
#define SYMTAB_TARGET_STAGES_H

#include "symtab/target.h"

/* The dump and vmlinux symbols (System.map, /proc/kallsyms or kallsyms). */
struct err *target_begin(const char *path, const struct target_opts *o, struct target **out);
struct err *target_load_vmlinux_btf(struct target *T, const struct target_opts *o);
/* The module list; KVM's modules' symbols (the others' on the first
 * lookup). */
struct err *target_load_modules(struct target *T);
/* --module files' BTF. */
struct err *target_load_module_files(struct target *T, const struct target_opts *o);
/* Live: BTF from /sys/kernel/btf, of KVM's modules or (ALL) every one. */
void target_load_sysfs_btf(struct target *T, bool all);
/* BTF of KVM's modules on btf_modules; the others' noted for
 * target_complete. */
struct err *target_load_module_btf(struct target *T);
/* page_offset_base and the physical address mask. */
struct err *target_finish(struct target *T);

#endif
