#include "mmu/walk.h"

#include "kobj/shadow.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct walker {
	struct target *T;
	struct spte_iter it;
	/* Shadow roots: each level's table, its page and the gfns of its
	 * entries (filled when the walk first yields an entry of the table;
	 * nothing is allocated per entry). */
	uint64_t shadow_tpa[SPTE_ITER_MAX_LEVEL];
	const struct kvm_shadow_page *sp[SPTE_ITER_MAX_LEVEL];
	uint64_t gfns[SPTE_ITER_MAX_LEVEL][SPTE_ITER_ENTRIES];
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

void walker_set_more(struct walker *w, spte_iter_more_fn fn, void *arg)
{
	w->it.more = fn;
	w->it.more_arg = arg;
}

void walker_free(struct walker *w)
{
	if (!w)
		return;
	spte_iter_fini(&w->it);
	free(w);
}

/* A shadow root's table at LEVEL is being entered (its first entry is
 * IT's): find its shadow page and the gfns its entries map.  No page for
 * the table: gfns from the position, as for a direct page; a page whose
 * gfns cannot be read gets those too, and the event is reported through
 * FN at the entry pointing at the table.  Nonzero: FN asked to stop. */
static int walker_shadow_enter(struct walker *w, const struct kvm_root *root, int level,
			       walk_fn fn, void *arg, struct walk_stats *st)
{
	const struct spte_iter *it = &w->it;
	uint64_t span = walk_level_pages(level);
	uint64_t base = it->gfn - (uint64_t)it->index * span;
	const struct kvm_shadow_page *sp = kvm_shadow_find(root->shadow, it->table_pa);
	w->shadow_tpa[level - 1] = it->table_pa;
	w->sp[level - 1] = sp;
	struct err *ge = sp ? kvm_shadow_gfns(w->T, sp, w->gfns[level - 1]) : NULL;
	if (!sp || ge)
		for (int i = 0; i < SPTE_ITER_ENTRIES; i++)
			w->gfns[level - 1][i] = base + (uint64_t)i * span;
	if (!ge)
		return 0;
	st->unreadable++;
	bool top = level >= it->root_level;
	struct walk_entry ev = { .event = WALK_UNREADABLE, .root = root, .level = level + 1,
				 .gfn = base, .addr_gfn = base,
				 .spte = top ? 0 : it->path_spte[level],
				 .table_pa = top ? 0 : it->path_pa[level],
				 .index = top ? -1 : it->path_idx[level], .why = ge->msg };
	int stop = fn(arg, &ev);
	err_free(ge);
	return stop;
}

struct err *walker_run(struct walker *w, const struct spte_masks *m, const struct kvm_root *root,
		       const struct walk_range *range, walk_fn fn, void *arg, struct walk_stats *st)
{
	if (root->level < 1 || root->level > SPTE_ITER_MAX_LEVEL)
		return err_new(ERR_CORRUPT, "root 0x%llx: level %d", (unsigned long long)root->sp,
			       root->level);
	struct spte_iter *it = &w->it;
	struct spte_iter_root r = { root->spt_pa, root->level, root->gfn,
				    kvm_root_pae_level(root) };
	struct err *e = spte_iter_start(it, w->T, m, NULL, &r, range ? range->gfn_lo : 0,
					range ? range->gfn_hi : UINT64_MAX, 1, 0);
	if (e)
		return e;
	memset(w->shadow_tpa, 0, sizeof(w->shadow_tpa));
	/* one entry for the walk, every field set for each SPTE: clearing it
	 * whole per SPTE was a fifth of the walk's own cost */
	struct walk_entry we = { .root = root, .masks = m };
	while (spte_iter_next(it)) {
		we.event = it->event;
		we.level = it->level;
		we.gfn = we.addr_gfn = it->gfn;
		we.spte = it->spte;
		we.table_pa = it->table_pa;
		we.index = it->index;
		we.why = it->why;
		we.sp = NULL;
		we.no_page = false;
		we.kind = it->kind;
		we.decoded = false;
		/* Shadow roots: the frame an entry maps is its shadow page's, not
		 * the position's (the position is an L2 gfn under a nested root);
		 * range filtering stays on the position. */
		if (root->shadow && it->event == WALK_ENTRY && it->level >= 1 &&
		    it->level <= SPTE_ITER_MAX_LEVEL && it->index >= 0 && it->index < SPTE_ITER_ENTRIES) {
			int l = it->level;
			if (w->shadow_tpa[l - 1] != it->table_pa &&
			    walker_shadow_enter(w, root, l, fn, arg, st))
				break;
			we.sp = w->sp[l - 1];
			we.gfn = w->gfns[l - 1][it->index];
			/* a special root's entries are in no shadow page: each
			 * maps its child page's gfn */
			const struct kvm_shadow_page *child = NULL;
			bool pae = kvm_root_pae_level(root) && l == kvm_root_pae_level(root);
			if ((we.sp || pae) && it->is_table &&
			    (child = kvm_shadow_find(root->shadow, it->spte & m->address)))
				we.gfn = child->gfn;
			/* KVM fills a PAE entry only from mmu_alloc_root: one that
			 * reaches no shadow page (all of them read) is damage, and
			 * what it points at is no table of KVM's: not entered */
			if (pae && it->is_table && !child && root->shadow->lists_read) {
				we.no_page = true;
				spte_iter_skip_children(it);
			}
		}
		switch (it->event) {
		case WALK_ENTRY:
			switch (it->kind) {
			case SPTE_MMIO: st->mmio++; break;
			case SPTE_FROZEN: st->frozen++; break;
			case SPTE_GARBAGE: st->garbage++; break;
			default: st->present++; break;
			}
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

void walk_entry_decode(struct walk_entry *e)
{
	/* classified by the iterator already: once per entry */
	if (e->event != WALK_ENTRY) /* events carry no bits */
		memset(&e->lazy_bits, 0, sizeof(e->lazy_bits));
	else if (e->root)
		walk_decode_kind(e->masks, e->root, e->spte, e->level, e->kind, &e->lazy_bits);
	else
		spte_decode_kind(e->masks, e->spte, e->level, e->kind, &e->lazy_bits);
	e->decoded = true;
}

void walk_entry_set_spte(struct walk_entry *e, const struct spte_masks *m, uint64_t spte, int level)
{
	e->masks = m;
	e->spte = spte;
	e->level = level;
	if (e->root)
		walk_decode(m, e->root, spte, level, &e->lazy_bits);
	else
		spte_decode(m, spte, level, &e->lazy_bits);
	e->kind = e->lazy_bits.kind;
	e->decoded = true;
}

void walk_decode(const struct spte_masks *m, const struct kvm_root *root, uint64_t spte, int level,
		 struct spte_bits *b)
{
	bool special = kvm_root_special_entry(root, level);
	walk_decode_kind(m, root, spte, level, special ? SPTE_EMPTY : spte_classify(m, spte), b);
}

enum walk_recheck walker_recheck(struct walker *w, const struct walk_entry *e, uint64_t *now)
{
	return spte_iter_recheck(&w->it, e->level, e->spte, now);
}

void walk_event_describe(const struct walk_entry *e, int pid, char *buf, size_t len)
{
	const char *special = kvm_root_special_name(e->root->special);
	snprintf(buf, len, "VM %d %s 0x%" PRIx64 ": level-%d entry %d of table 0x%" PRIx64
		 " (gfn 0x%" PRIx64 ", spte 0x%" PRIx64 "): %s", pid, special ? special : "root",
		 kvm_root_id(e->root), e->level, e->index, e->table_pa, e->gfn, e->spte,
		 e->why);
}
