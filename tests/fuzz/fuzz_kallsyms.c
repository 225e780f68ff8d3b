/* kallsyms decoding over fuzzed bytes of the real tables' pages. */
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
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_env_apply(&env, data, size);
	struct symtab t;
	struct err *e = kallsyms_load(env.T->dump, &t, NULL, 0);
	if (!e)
		symtab_fini(&t);
	err_free(e);
	/* and the search for the tables by their structure, over the same bytes */
	if (!(e = kallsyms_scan(env.T->dump, &t, NULL, 0)))
		symtab_fini(&t);
	err_free(e);
	fuzz_env_reset(&env);
	return 0;
}
