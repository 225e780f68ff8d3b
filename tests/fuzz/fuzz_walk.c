/* The SPTE walk and decode over fuzzed page-table pages of a real tree. */
#include <stdlib.h>

#include "fuzz_common.h"
#include "mmu/walk.h"

static struct fuzz_env env;
static struct walker *w;

static int on_entry(void *arg, const struct walk_entry *e)
{
	char buf[96];
	(void)arg;
	if (e->event == WALK_ENTRY)
		spte_flags_str(walk_bits(e), env.H.masks.ept, buf, sizeof(buf));
	else
		walk_event_describe(e, 0, buf, sizeof(buf));
	return 0;
}

static int collect(void *arg, const struct walk_entry *e)
{
	(void)arg;
	if (e->event == WALK_ENTRY && e->kind == SPTE_PRESENT && !walk_bits(e)->leaf)
		fuzz_env_add_phys(&env, e->spte & env.H.masks.address);
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_env_open(&env, 1);
	if (walker_new(env.T, &w))
		abort();
	for (size_t v = 0; v < env.H.nvms; v++)
		for (size_t r = 0; r < env.H.vms[v].nroots; r++) {
			struct walk_stats st = { 0 };
			fuzz_env_add_phys(&env, env.H.vms[v].roots[r].spt_pa);
			walker_run(w, &env.H.masks, &env.H.vms[v].roots[r], NULL, collect, NULL, &st);
		}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_env_apply(&env, data, size);
	for (size_t v = 0; v < env.H.nvms; v++)
		for (size_t r = 0; r < env.H.vms[v].nroots; r++) {
			struct walk_stats st = { 0 };
			struct err *e = walker_run(w, &env.H.masks, &env.H.vms[v].roots[r], NULL, on_entry,
						   NULL, &st);
			err_free(e);
		}
	fuzz_env_reset(&env);
	return 0;
}
