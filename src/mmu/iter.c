#include "mmu/iter.h"

#include <string.h>

#define SPTE_PS (1ull << 7)

static unsigned level_shift(int level)
{
	return 9u * (unsigned)(level - 1);
}

/* An entry of kind K at LEVEL that points at a table below it. */
static inline bool iter_leads_to_table(enum spte_kind k, int level, uint64_t spte)
{
	return k == SPTE_PRESENT && level > 1 && !(spte & SPTE_PS);
}

/* Narrow [*FIRST, *LAST] to the entries of the table at BASE (entries of
 * 1 << SHIFT gfns) that overlap [lo, hi]; *LAST < *FIRST if none.  Shifts,
 * not divisions: this runs once per entry. */
static void iter_bounds(const struct spte_iter *it, uint64_t base, unsigned shift, int *first,
			int *last)
{
	*last = SPTE_ITER_ENTRIES - 1;
	if (it->hi < base) {
		*last = -1;
		return;
	}
	if (it->lo > base) {
		uint64_t f = (it->lo - base) >> shift;
		if (f > (uint64_t)*first)
			*first = f >= SPTE_ITER_ENTRIES ? SPTE_ITER_ENTRIES : (int)f;
	}
	uint64_t l = (it->hi - base) >> shift;
	if (l < SPTE_ITER_ENTRIES)
		*last = (int)l;
}

struct err *spte_iter_start(struct spte_iter *it, struct target *T, const struct spte_masks *m,
			    spte_classify_fn classify, const struct spte_iter_root *root, uint64_t lo,
			    uint64_t hi, int min_level, unsigned flags)
{
	err_free(it->err);
	it->err = NULL;
	u64set_clear(&it->seen);
	it->T = T;
	it->m = m;
	it->classify = classify ? classify : spte_classify;
	it->lo = lo;
	it->hi = hi;
	it->min_level = min_level < 1 ? 1 : min_level;
	it->flags = flags;
	it->root_level = root->level;
	it->pae_level = root->pae_level;
	it->nomem = false;
	it->tables = 0;
	it->is_table = false;
	it->cur = root->level + 1;
	if (root->level < 1 || root->level > SPTE_ITER_MAX_LEVEL)
		return err_new(ERR_CORRUPT, "root table 0x%llx: level %d",
			       (unsigned long long)root->table_pa, root->level);
	/* a table is a page: an address inside one is a damaged pointer, and
	 * reading there would take the end of one page and the start of the
	 * next for 512 entries */
	if (root->table_pa & 0xfff)
		return err_new(ERR_CORRUPT, "root table address 0x%llx is not page-aligned: a damaged "
			       "table pointer, not read", (unsigned long long)root->table_pa);
	/* The root is entered like any child, from a notional entry above it. */
	it->level = root->level + 1;
	it->gfn = root->gfn;
	it->spte = 0;
	it->table_pa = 0;
	it->index = -1;
	it->pending = true;
	it->pend_pa = root->table_pa;
	it->pend_gfn = root->gfn;
	it->pend_level = root->level;
	return NULL;
}

/* Tell the dump's read-ahead which tables this one leads to, in the order
 * they will be entered.  Only a table with table children says so: the
 * list replaces the last one, and a 4K-leaf table's parent is where the
 * walk spends its reads (a huge-page table leaves its parent's list on). */
static void iter_prefetch_children(struct spte_iter *it, const uint64_t *t, int level, uint64_t base)
{
	uint64_t pa[SPTE_ITER_ENTRIES * (1 + SPTE_ITER_MORE_MAX)];
	size_t n = 0;
	int first = 0, last;
	iter_bounds(it, base, level_shift(level), &first, &last);
	bool more = it->more && level == 2;
	uint64_t prev = UINT64_MAX; /* the last page the consumer added */
	for (int i = first; i <= last; i++)
		if (iter_leads_to_table(it->classify(it->m, t[i]), level, t[i])) {
			pa[n++] = t[i] & it->m->address;
			if (!more) /* in the order they will be read: the table, then these */
				continue;
			uint64_t add[SPTE_ITER_MORE_MAX];
			size_t k = it->more(it->more_arg, base + (uint64_t)i * SPTE_ITER_ENTRIES, add,
					    SPTE_ITER_MORE_MAX);
			for (size_t j = 0; j < k && j < SPTE_ITER_MORE_MAX; j++)
				if (add[j] != prev) /* two tables' gfns may share one */
					pa[n++] = prev = add[j];
		}
	dump_prefetch_phys(it->T->dump, pa, n);
}

/* Yield an event for the table that was not entered; the cursor stays at
 * the entry pointing at it. */
static bool iter_event(struct spte_iter *it, enum walk_event ev, const char *why)
{
	it->event = ev;
	it->kind = SPTE_EMPTY;
	it->why = why;
	it->is_table = false;
	it->child_pa = it->pend_pa;
	return true;
}

/* Read the table of it->pend_*: true if an event was yielded instead. */
static bool iter_enter(struct spte_iter *it)
{
	int level = it->pend_level;
	uint64_t pa = it->pend_pa;
	it->pending = false;
	int ins = u64set_add(&it->seen, pa);
	if (ins < 0) {
		it->nomem = true;
		return false;
	}
	if (!ins)
		return iter_event(it, WALK_LOOP, "table already reached from another entry");
	uint64_t *t = it->table[level - 1];
	/* A table is read whole, unless the range selects one entry of it (a
	 * one-gfn lookup): then that entry alone. */
	int first = 0, last;
	iter_bounds(it, it->pend_gfn, level_shift(level), &first, &last);
	bool one = first == last;
	uint64_t off = one ? (uint64_t)first * 8 : 0, len = one ? 8 : PAGE_SIZE;
	bool pae = level == it->pae_level;
	if (pae) {
		memset(t, 0, PAGE_SIZE);
		if (off >= SPTE_ITER_PAE_ENTRIES * 8)
			len = 0;
		else if (!one)
			len = SPTE_ITER_PAE_ENTRIES * 8;
	}
	struct err *e = len ? dump_read_phys(it->T->dump, pa + off, (uint8_t *)t + off, len) : NULL;
	if (pae)
		for (int i = 0; i < SPTE_ITER_PAE_ENTRIES; i++)
			if (t[i] == UINT64_MAX)
				t[i] = 0;
	if (e) {
		/* Filtered is the dump's choice; anything else is a pointer to
		 * memory the host never had. */
		it->err = e;
		return iter_event(it, e->kind == ERR_FILTERED ? WALK_UNREADABLE : WALK_BAD_CHILD, e->msg);
	}
	/* A live table is read twice; an entry that differs was being written
	 * and is read again until it holds still (bounded; the last value read
	 * stands, and a finding on it is re-read before it is reported). */
	if (len && dump_is_live(it->T->dump) &&
	    !dump_read_phys(it->T->dump, pa + off, (uint8_t *)it->again + off, len))
		for (uint64_t i = off / 8; i < (off + len) / 8; i++)
			if (t[i] != it->again[i]) {
				it->T->live.entries_reread++;
				uint64_t v;
				struct err *re = dump_read_phys_stable(it->T->dump, pa + i * 8, &v, 8);
				if (!re || re->kind == ERR_CHANGED)
					t[i] = v;
				err_free(re);
			}
	it->tables++;
	if (!one && level > it->min_level && level != it->pae_level && dump_prefetching(it->T->dump))
		iter_prefetch_children(it, t, level, it->pend_gfn);
	it->cur = level;
	it->base[level - 1] = it->pend_gfn;
	it->last[level - 1] = last;
	it->path_pa[level - 1] = pa;
	it->path_idx[level - 1] = first - 1; /* the scan resumes after it */
	return false;
}

bool spte_iter_next(struct spte_iter *it)
{
	if (it->err) { /* an event's message: rare, and a call per entry otherwise */
		err_free(it->err);
		it->err = NULL;
	}
	if (it->is_table && it->level > it->min_level) {
		it->pending = true;
		it->pend_pa = it->spte & it->m->address;
		it->pend_gfn = it->gfn;
		it->pend_level = it->level - 1;
	}
	it->is_table = false;
	if (it->pending && iter_enter(it))
		return true;
	if (it->nomem)
		return false;
	/* Locals, not fields: the classifier is an opaque call, after which
	 * every field would have to be read again. */
	const struct spte_masks *m = it->m;
	spte_classify_fn classify = it->classify;
	bool empty_too = it->flags & SPTE_ITER_EMPTY;
	while (it->cur <= it->root_level) {
		int level = it->cur;
		const uint64_t *t = it->table[level - 1];
		unsigned shift = level_shift(level);
		uint64_t base = it->base[level - 1];
		for (int i = it->path_idx[level - 1] + 1, last = it->last[level - 1]; i <= last; i++) {
			uint64_t spte = t[i];
			/* a special root's own entries have no SPTE_MMU_PRESENT bit:
			 * present is PT_PRESENT_MASK, and none is a leaf */
			enum spte_kind k = it->pae_level && level >= it->pae_level ?
				spte_classify_special(spte) : classify == spte_classify ?
				spte_classify_inline(m, spte) : classify(m, spte);
			if (k == SPTE_EMPTY && !empty_too)
				continue;
			it->path_idx[level - 1] = i;
			it->path_spte[level - 1] = spte;
			it->event = WALK_ENTRY;
			it->kind = k;
			it->level = level;
			it->gfn = base + ((uint64_t)i << shift);
			it->spte = spte;
			it->table_pa = it->path_pa[level - 1];
			it->index = i;
			it->why = NULL;
			it->is_table = iter_leads_to_table(k, level, spte);
			return true;
		}
		it->path_idx[level - 1] = SPTE_ITER_ENTRIES;
		it->cur++;	/* up: the entry above resumes after itself */
	}
	return false;
}

void spte_iter_fini(struct spte_iter *it)
{
	err_free(it->err);
	it->err = NULL;
	u64set_fini(&it->seen);
}

enum walk_recheck spte_iter_recheck(struct spte_iter *it, int level, uint64_t spte, uint64_t *now)
{
	*now = spte;
	if (level < 1 || level > it->root_level || it->root_level > SPTE_ITER_MAX_LEVEL)
		return WALK_PATH_CHANGED;
	for (int l = it->root_level; l >= level; l--) {
		uint64_t v;
		struct err *err = dump_read_phys_stable(it->T->dump, it->path_pa[l - 1] +
							(uint64_t)it->path_idx[l - 1] * 8, &v, 8);
		/* An entry that never settles has still a last value read. */
		bool failed = err != NULL, unsettled = failed && err->kind == ERR_CHANGED;
		err_free(err);
		if (failed && !(unsettled && l == level))
			return WALK_PATH_CHANGED;
		if (unsettled) {
			*now = v;
			return WALK_ENTRY_CHANGED;
		}
		if (l == level) {
			*now = v;
			return v == spte ? WALK_SAME : WALK_ENTRY_CHANGED;
		}
		if (v != it->path_spte[l - 1])
			return WALK_PATH_CHANGED;
	}
	return WALK_PATH_CHANGED;
}
