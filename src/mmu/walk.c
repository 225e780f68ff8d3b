#include "mmu/walk.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WALK_MAX_LEVEL 5
#define WALK_ENTRIES 512

/* Open-addressing set of table physical addresses seen in one walk. */
struct pa_set {
	uint64_t *slot;
	size_t cap, n;
};

struct walker {
	struct target *T;
	uint64_t tables[WALK_MAX_LEVEL][WALK_ENTRIES];
	uint64_t again[WALK_ENTRIES];	/* live: the second read of a table */
	/* The entry being visited at each level (index level - 1), for
	 * walker_recheck: table, index and the value walked. */
	uint64_t path_pa[WALK_MAX_LEVEL], path_spte[WALK_MAX_LEVEL];
	int path_idx[WALK_MAX_LEVEL];
	int root_level;
	struct pa_set seen;
	/* Shadow roots: each level's page and the gfns of its entries. */
	const struct kvm_shadow_page *sp[WALK_MAX_LEVEL];
	uint64_t gfns[WALK_MAX_LEVEL][WALK_ENTRIES];
};

static size_t pa_hash(uint64_t pa, size_t cap)
{
	return (size_t)((pa >> 12) * 0x9e3779b97f4a7c15ull >> 7) & (cap - 1);
}

/* Returns 1 if inserted, 0 if already present, -1 on allocation failure. */
static int pa_set_insert(struct pa_set *s, uint64_t pa)
{
	pa |= 1; /* 0 marks an empty slot; table addresses are page aligned */
	if ((s->n + 1) * 2 > s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 1024;
		uint64_t *ns = calloc(ncap, sizeof(*ns));
		if (!ns)
			return -1;
		for (size_t i = 0; i < s->cap; i++) {
			if (!s->slot[i])
				continue;
			size_t h = pa_hash(s->slot[i], ncap);
			while (ns[h])
				h = (h + 1) & (ncap - 1);
			ns[h] = s->slot[i];
		}
		free(s->slot);
		s->slot = ns;
		s->cap = ncap;
	}
	size_t h = pa_hash(pa, s->cap);
	while (s->slot[h]) {
		if (s->slot[h] == pa)
			return 0;
		h = (h + 1) & (s->cap - 1);
	}
	s->slot[h] = pa;
	s->n++;
	return 1;
}

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
	free(w->seen.slot);
	free(w);
}

struct walk_ctx {
	struct walker *w;
	const struct spte_masks *m;
	const struct kvm_root *root;
	const struct walk_range *range;
	walk_fn fn;
	void *arg;
	struct walk_stats *st;
};

static int walk_report(struct walk_ctx *c, enum walk_event ev, int level, uint64_t gfn,
		       uint64_t spte, uint64_t table_pa, int index, const char *why)
{
	struct walk_entry e = { .event = ev, .root = c->root, .level = level, .gfn = gfn,
				.addr_gfn = gfn, .spte = spte, .table_pa = table_pa, .index = index,
				.why = why };
	/* Shadow roots: the frame the entry maps is the shadow page's, not the
	 * position's (the position is an L2 gfn under a nested root). */
	const struct kvm_shadow_page *sp = c->root->shadow && ev == WALK_ENTRY && level >= 1 &&
					   level <= WALK_MAX_LEVEL ? c->w->sp[level - 1] : NULL;
	if (sp && index >= 0 && index < WALK_ENTRIES) {
		e.sp = sp;
		e.gfn = c->w->gfns[level - 1][index];
		bool leaf = level == 1 || (spte & (1ull << 7));
		const struct kvm_shadow_page *child;
		if (!leaf && spte_classify(c->m, spte) == SPTE_PRESENT &&
		    (child = kvm_shadow_find(c->root->shadow, spte & c->m->address)))
			e.gfn = child->gfn;
	}
	if (ev == WALK_ENTRY)
		spte_decode(c->m, spte, level, &e.bits);
	return c->fn(c->arg, &e);
}

/* Recursion depth is the table level, at most WALK_MAX_LEVEL. */
static int walk_table(struct walk_ctx *c, uint64_t pa, int level, uint64_t base_gfn,
		      uint64_t parent_spte, int parent_index, uint64_t parent_pa)
{
	struct walker *w = c->w;
	if (level < 1 || level > WALK_MAX_LEVEL)
		return 0;
	int ins = pa_set_insert(&w->seen, pa);
	if (ins <= 0) {
		c->st->loops++;
		return walk_report(c, WALK_LOOP, level + 1, base_gfn, parent_spte, parent_pa,
				   parent_index, ins < 0 ? "out of memory tracking tables"
							 : "table already reached from another entry");
	}
	uint64_t *t = w->tables[level - 1];
	struct err *e = dump_read_phys(w->T->dump, pa, t, PAGE_SIZE);
	if (e) {
		/* Filtered is the dump's choice; anything else is a pointer to
		 * memory the host never had. */
		enum walk_event ev = e->kind == ERR_FILTERED ? WALK_UNREADABLE : WALK_BAD_CHILD;
		if (ev == WALK_UNREADABLE)
			c->st->unreadable++;
		else
			c->st->bad_children++;
		int stop = walk_report(c, ev, level + 1, base_gfn, parent_spte, parent_pa,
				       parent_index, e->msg);
		err_free(e);
		return stop;
	}
	/* A live table is read twice; an entry that differs was being written
	 * and is read again until it holds still (bounded; the last value read
	 * stands, and a finding on it is re-read before it is reported). */
	if (dump_is_live(w->T->dump) && !dump_read_phys(w->T->dump, pa, w->again, PAGE_SIZE))
		for (int i = 0; i < WALK_ENTRIES; i++)
			if (t[i] != w->again[i]) {
				dump_live_stats(w->T->dump)->entries_reread++;
				uint64_t v;
				struct err *re = dump_read_phys_stable(w->T->dump, pa + (uint64_t)i * 8, &v, 8);
				if (!re || re->kind == ERR_CHANGED)
					t[i] = v;
				err_free(re);
			}
	c->st->tables++;
	if (c->root->shadow) {
		/* No page for the table: gfns from the position, as for a direct page. */
		const struct kvm_shadow_page *sp = kvm_shadow_find(c->root->shadow, pa);
		w->sp[level - 1] = sp;
		struct err *ge = sp ? kvm_shadow_gfns(w->T, sp, w->gfns[level - 1]) : NULL;
		if (!sp || ge)
			for (int i = 0; i < WALK_ENTRIES; i++)
				w->gfns[level - 1][i] = base_gfn + (uint64_t)i * walk_level_pages(level);
		if (ge) {
			c->st->unreadable++;
			int stop = walk_report(c, WALK_UNREADABLE, level + 1, base_gfn, parent_spte,
					       parent_pa, parent_index, ge->msg);
			err_free(ge);
			if (stop)
				return 1;
		}
	}
	uint64_t span = walk_level_pages(level);
	for (int i = 0; i < WALK_ENTRIES; i++) {
		uint64_t gfn = base_gfn + (uint64_t)i * span;
		if (gfn + span - 1 < c->range->gfn_lo || gfn > c->range->gfn_hi)
			continue;
		uint64_t spte = t[i];
		enum spte_kind k = spte_classify(c->m, spte);
		if (k == SPTE_EMPTY)
			continue;
		w->path_pa[level - 1] = pa;
		w->path_idx[level - 1] = i;
		w->path_spte[level - 1] = spte;
		switch (k) {
		case SPTE_MMIO: c->st->mmio++; break;
		case SPTE_FROZEN: c->st->frozen++; break;
		case SPTE_GARBAGE: c->st->garbage++; break;
		default: c->st->present++; break;
		}
		if (walk_report(c, WALK_ENTRY, level, gfn, spte, pa, i, NULL))
			return 1;
		if (k != SPTE_PRESENT)
			continue;
		bool leaf = level == 1 || (spte & (1ull << 7));
		if (leaf) {
			c->st->leaves++;
			continue;
		}
		uint64_t child = spte & c->m->address;
		if (level == 1)
			continue;
		/* The buffer of this level is reused below; keep the entry. */
		if (walk_table(c, child, level - 1, gfn, spte, i, pa))
			return 1;
	}
	return 0;
}

struct err *walker_run(struct walker *w, const struct spte_masks *m, const struct kvm_root *root,
		       const struct walk_range *range, walk_fn fn, void *arg, struct walk_stats *stats)
{
	struct walk_range all = { 0, UINT64_MAX };
	struct walk_ctx c = { w, m, root, range ? range : &all, fn, arg, stats };
	w->seen.n = 0;
	w->root_level = root->level;
	if (w->seen.slot)
		memset(w->seen.slot, 0, w->seen.cap * sizeof(*w->seen.slot));
	if (root->level < 1 || root->level > WALK_MAX_LEVEL)
		return err_new(ERR_CORRUPT, "root 0x%llx: level %d", (unsigned long long)root->sp,
			       root->level);
	walk_table(&c, root->spt_pa, root->level, root->gfn, 0, -1, 0);
	return NULL;
}

enum walk_recheck walker_recheck(struct walker *w, const struct walk_entry *e, uint64_t *now)
{
	*now = e->spte;
	if (e->level < 1 || e->level > w->root_level || w->root_level > WALK_MAX_LEVEL)
		return WALK_PATH_CHANGED;
	for (int l = w->root_level; l >= e->level; l--) {
		uint64_t v;
		struct err *err = dump_read_phys_stable(w->T->dump, w->path_pa[l - 1] +
							(uint64_t)w->path_idx[l - 1] * 8, &v, 8);
		/* An entry that never settles has still a last value read. */
		bool failed = err != NULL, unsettled = failed && err->kind == ERR_CHANGED;
		err_free(err);
		if (failed && !(unsettled && l == e->level))
			return WALK_PATH_CHANGED;
		if (unsettled) {
			*now = v;
			return WALK_ENTRY_CHANGED;
		}
		if (l == e->level) {
			*now = v;
			return v == e->spte ? WALK_SAME : WALK_ENTRY_CHANGED;
		}
		if (v != w->path_spte[l - 1])
			return WALK_PATH_CHANGED;
	}
	return WALK_PATH_CHANGED;
}

void walk_event_describe(const struct walk_entry *e, int pid, char *buf, size_t len)
{
	snprintf(buf, len, "VM %d root 0x%" PRIx64 ": level-%d entry %d of table 0x%" PRIx64
		 " (gfn 0x%" PRIx64 ", spte 0x%" PRIx64 "): %s", pid, e->root->sp, e->level, e->index,
		 e->table_pa, e->gfn, e->spte, e->why);
}
