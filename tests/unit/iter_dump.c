/* Helper of tests/cli/iter_oracle.py: the SPTE iterator (mmu/iter.h) on a
 * real dump, each TDP root of each VM started over gfns [LO, HI] with a
 * minimum level, one line per entry it yields: "ROOT_SP LEVEL GFN SPTE", and
 * "EVENT ..." for anything but an entry (the oracle has none).  Then, for the
 * first entry below the root, the path it reports and a recheck of it, which
 * on a dump must say WALK_SAME. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "kobj/host_load.h"
#include "mmu/iter.h"

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: iter-dump DUMP LO HI MIN_LEVEL\n");
		return 2;
	}
	uint64_t lo = strtoull(argv[2], NULL, 0), hi = strtoull(argv[3], NULL, 0);
	int min_level = atoi(argv[4]);
	struct target_opts to = { 0 };
	struct target *T;
	struct kvm_host H;
	struct err *e = target_open(argv[1], &to, &T);
	if (!e && (e = kvm_host_load(T, &H)))
		target_close(T);
	if (e) {
		fprintf(stderr, "iter-dump: %s\n", e->msg);
		err_free(e);
		return 1;
	}
	struct spte_iter *it = calloc(1, sizeof(*it));
	int rc = it ? 0 : 1;
	for (size_t v = 0; v < H.nvms && it; v++) {
		const struct kvm_vm *vm = &H.vms[v];
		for (size_t k = 0; k < vm->nroots; k++) {
			const struct kvm_root *r = &vm->roots[k];
			struct spte_iter_root root = { r->spt_pa, r->level, r->gfn, r->special != ROOT_SP ? 3 : 0 };
			if ((e = spte_iter_start(it, T, &H.masks, NULL, &root, lo, hi, min_level, 0))) {
				printf("ERROR %s\n", e->msg);
				err_free(e);
				rc = 1;
				continue;
			}
			bool rechecked = false;
			while (spte_iter_next(it)) {
				if (it->event != WALK_ENTRY) {
					printf("EVENT %d 0x%" PRIx64 " L%d %s\n", it->event, r->sp, it->level,
					       it->why ? it->why : "");
					continue;
				}
				printf("0x%" PRIx64 " %d 0x%" PRIx64 " 0x%" PRIx64 "\n", r->sp, it->level,
				       it->gfn, it->spte);
				/* the path holds this entry at its level and its parents above */
				if (!rechecked && it->level < it->root_level) {
					rechecked = true;
					uint64_t now = 0;
					bool path = it->path_spte[it->level - 1] == it->spte;
					enum walk_recheck rk = spte_iter_recheck(it, it->level, it->spte, &now);
					printf("PATH 0x%" PRIx64 " %s %s\n", r->sp, path ? "holds" : "broken",
					       rk == WALK_SAME ? "same" : "changed");
				}
			}
			if (it->nomem)
				rc = 1;
			spte_iter_fini(it);
		}
	}
	free(it);
	kvm_host_fini(&H);
	target_close(T);
	return rc;
}
