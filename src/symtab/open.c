/* Opening a target: the stage order (symbols -> types -> offset recovery)
 * in one place, above both target.c and recover/ (which knows nothing of
 * struct target: it gets a narrow input). */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "symtab/recover.h"
#include "symtab/target.h"
#include "target-stages.h"

static const struct symtab *input_symtab(void *ctx, const char *module)
{
	const struct target *T = ctx;
	if (!strcmp(module, "vmlinux"))
		return &T->vmlinux_syms;
	const struct target_module *m = target_module(T, module);
	return m ? &m->syms : NULL;
}

static const char *input_symbolize(void *ctx, uint64_t addr, uint64_t *off, const char **module)
{
	return target_symbolize(ctx, addr, off, module);
}

struct recover_input target_recover_input(struct target *T)
{
	return (struct recover_input){ .dump = T->dump, .types = &T->types, .symtab = input_symtab,
				       .symbolize = input_symbolize, .ctx = T,
				       .report = &T->recovered };
}

struct err *target_open(const char *path, const struct target_opts *o, struct target **out)
{
	struct target *T;
	struct err *e = target_begin(path, o, &T);
	if (e)
		return e;
	struct recover_input in = target_recover_input(T);
	e = target_load_vmlinux_btf(T, o);
	dump_stash_drop(T->dump); /* the kallsyms search's pages: the BTF was their use */
	if (e) {
		if (o->vmlinux || e->kind == ERR_NOMEM)
			goto fail;
		/* No vmlinux BTF in the dump: read the layouts from code. */
		snprintf(T->recovered.why, sizeof(T->recovered.why), "no vmlinux BTF: %.140s", e->msg);
		err_free(e);
		if ((e = recover_vmlinux_types(&in)))
			goto fail;
		if (o->nmodule_files) {
			e = err_new(ERR_USAGE, "--module needs the vmlinux BTF its BTF is split on; "
				    "give --vmlinux too");
			goto fail;
		}
	}
	if ((e = target_load_modules(T))) {
		if (T->recovered.vmlinux && !T->types.vmlinux)
			e = err_wrap(e, "%s, and offsets from vmlinux code were refused (%s); give "
				     "--vmlinux", T->recovered.why, T->recovered.result);
		goto fail;
	}
	if ((e = target_load_module_files(T, o)))
		goto fail;
	if (dump_is_live(T->dump) && !T->from_memory)
		target_load_sysfs_btf(T, false);
	if ((e = target_load_module_btf(T)))
		goto fail;
	/* No type info for kvm.ko anywhere: read its layout from its code. */
	if (target_module(T, "kvm") && !types_have_module(&T->types, "kvm")) {
		if (!T->recovered.vmlinux)
			snprintf(T->recovered.why, sizeof(T->recovered.why), "no BTF for kvm: %.140s",
				 *T->module_btf_problems ? T->module_btf_problems : "not on btf_modules");
		if ((e = recover_kvm_types(&in)))
			goto fail;
	}
	if ((e = target_finish(T)))
		goto fail;
	*out = T;
	return NULL;
fail:
	target_close(T);
	return e;
}
