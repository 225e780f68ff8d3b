#include "mmu/walk.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct walker {
	struct target *T;
	struct spte_iter it;
};

struct err *walker_new(struct target *T, struct walker **out)
{
	struct walker *w = calloc(1, sizeof(*w));
	if (!w)
		return err_new(ERR_NOMEM, "out of memory");
	w->T = T;
	*out = w;
	return NULL;
}

void walker_free(struct walker *w)
{
	if (!w)
		return;
	spte_iter_fini(&w->it);
	free(w);
}

struct err *walker_run(struct walker *w, const struct spte_masks *m, const struct kvm_root *root,
		       const struct walk_range *range, walk_fn fn, void *arg, struct walk_stats *st)
{
	if (root->level < 1 || root->level > SPTE_ITER_MAX_LEVEL)
		return err_new(ERR_CORRUPT, "root 0x%llx: level %d", (unsigned long long)root->sp,
			       root->level);
	struct spte_iter *it = &w->it;
	struct spte_iter_root r = { root->spt_pa, root->level, root->gfn };
	struct err *e = spte_iter_start(it, w->T, m, NULL, &r, range ? range->gfn_lo : 0,
					range ? range->gfn_hi : UINT64_MAX, 1, 0);
	if (e)
		return e;
	while (spte_iter_next(it)) {
		struct walk_entry we = { .event = it->event, .root = root, .level = it->level,
					 .gfn = it->gfn, .spte = it->spte, .table_pa = it->table_pa,
					 .index = it->index, .why = it->why };
		switch (it->event) {
		case WALK_ENTRY:
			switch (it->kind) {
			case SPTE_MMIO: st->mmio++; break;
			case SPTE_FROZEN: st->frozen++; break;
			case SPTE_GARBAGE: st->garbage++; break;
			default: st->present++; break;
			}
			spte_decode(m, it->spte, it->level, &we.bits);
			break;
		case WALK_LOOP: st->loops++; break;
		case WALK_UNREADABLE: st->unreadable++; break;
		case WALK_BAD_CHILD: st->bad_children++; break;
		}
		if (fn(arg, &we))
			break;
		if (it->event == WALK_ENTRY && it->kind == SPTE_PRESENT && !it->is_table)
			st->leaves++;
	}
	st->tables += it->tables;
	if (it->nomem)
		return err_new(ERR_NOMEM, "root 0x%llx: out of memory tracking its tables",
			       (unsigned long long)root->sp);
	return NULL;
}

enum walk_recheck walker_recheck(struct walker *w, const struct walk_entry *e, uint64_t *now)
{
	return spte_iter_recheck(&w->it, e->level, e->spte, now);
}

void walk_event_describe(const struct walk_entry *e, int pid, char *buf, size_t len)
{
	snprintf(buf, len, "VM %d root 0x%" PRIx64 ": level-%d entry %d of table 0x%" PRIx64
		 " (gfn 0x%" PRIx64 ", spte 0x%" PRIx64 "): %s", pid, e->root->sp, e->level, e->index,
		 e->table_pa, e->gfn, e->spte, e->why);
}
