/* kallsyms decoding over fuzzed bytes of the real tables' pages: read
 * whole, and on demand (the markers before the token table, the name index
 * after the offsets) with lookups and the completion. */
#include <stdlib.h>

#include "fuzz_common.h"
#include "symtab/kallsyms.h"

static struct fuzz_env env;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_env_open(&env, 0);
	static const char *const names[] = { "kallsyms_num_syms", "kallsyms_token_index",
					     "kallsyms_token_table", "kallsyms_names",
					     "kallsyms_offsets", "kallsyms_relative_base" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		uint64_t a = dump_vmcoreinfo_symbol(env.T->dump, names[i]);
		if (a)
			fuzz_env_add_virt(&env, a, 2 * PAGE_SIZE);
	}
	uint64_t t = dump_vmcoreinfo_symbol(env.T->dump, "kallsyms_token_table");
	uint64_t r = dump_vmcoreinfo_symbol(env.T->dump, "kallsyms_relative_base");
	if (t) /* markers (6.4+) */
		fuzz_env_add_virt(&env, t - PAGE_SIZE, PAGE_SIZE);
	if (r) /* the name index (6.4+) */
		fuzz_env_add_virt(&env, r + 8, 2 * PAGE_SIZE);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_env_apply(&env, data, size);
	struct symtab t;
	struct err *e = kallsyms_load(env.T->dump, &t, NULL, 0);
	if (!e) {
		static const char *const ask[] = { "init_uts_ns", "modules", "vm_list", "~" };
		uint64_t a;
		for (size_t i = 0; i < sizeof(ask) / sizeof(ask[0]); i++)
			(void)symtab_lookup(&t, ask[i], &a);
		err_free(symtab_complete(&t));
		(void)symtab_lookup(&t, "init_uts_ns", &a);
		symtab_fini(&t);
	}
	err_free(e);
	/* and the search for the tables by their structure, over the same bytes */
	if (!(e = kallsyms_scan(env.T->dump, &t, NULL, 0)))
		symtab_fini(&t);
	err_free(e);
	fuzz_env_reset(&env);
	return 0;
}
