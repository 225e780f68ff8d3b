#include "browse/gpmap.h"

#include <stdlib.h>
#include <string.h>

#include "mmu/walk.h"

const char *gp_state_name(enum gp_state s)
{
	static const char *const n[] = { "unmapped", "read-only", "A=0", "writable",
					 "writable, dirty-logged, not recorded", "dirty-logged, recorded",
					 "access-tracked", "MMIO", "finding" };
	return s < GP_NSTATES ? n[s] : "?";
}

char gp_state_glyph(enum gp_state s)
{
	static const char g[] = ".raWLdtM!";
	return s < GP_NSTATES ? g[s] : '?';
}

struct build {
	struct session *s;
	struct gpmap *m;
	uint32_t root;
	const struct kvm_memslot *bm_slot;	/* the last slot whose bitmap was read */
	uint64_t *bm_words;
	size_t bm_n;
};

static enum gp_state leaf_state(struct build *bd, const struct kvm_vm *vm, const struct kvm_root *r,
				const struct walk_entry *e)
{
	const struct spte_bits *b = &e->bits;
	if (b->kind == SPTE_MMIO)
		return GP_MMIO;
	if (b->access_tracked)
		return GP_ACCESS_TRACKED;
	const struct kvm_memslot *slot = kvm_vm_slot_for(vm, r->smm, e->gfn);
	if (slot && (slot->flags & KVM_MEM_LOG_DIRTY_PAGES) && b->writable) {
		/* recorded in the live bitmap? (ring-mode VMs have none) */
		if (bd->bm_slot != slot) {
			free(bd->bm_words);
			bd->bm_words = NULL;
			bd->bm_n = 0;
			err_free(kvm_slot_bitmap(bd->s->T, slot, &bd->bm_words, &bd->bm_n));
			bd->bm_slot = slot;
		}
		uint64_t rel = e->gfn - slot->base_gfn;
		bool rec = bd->bm_words && rel / 64 < bd->bm_n && (bd->bm_words[rel / 64] >> (rel % 64) & 1);
		return rec ? GP_LOGGED_RECORDED : GP_WRITABLE_LOGGED;
	}
	if (b->writable)
		return b->accessed ? GP_WRITABLE : GP_NOT_ACCESSED;
	return b->accessed ? GP_READONLY : GP_NOT_ACCESSED;
}

static int on_entry(void *arg, const struct walk_entry *e)
{
	struct build *b = arg;
	struct gpmap *m = b->m;
	if (e->event != WALK_ENTRY)
		return 0;
	bool leafish = (e->bits.kind == SPTE_PRESENT && e->bits.leaf) || e->bits.kind == SPTE_MMIO;
	if (!leafish)
		return 0;
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 1024;
		void *p = realloc(m->leaves, cap * sizeof(*m->leaves));
		if (!p)
			return 1;
		m->leaves = p;
		m->cap = cap;
	}
	const struct kvm_root *r = &m->vm->roots[b->root];
	m->leaves[m->n++] = (struct gp_leaf){ e->gfn, e->spte, b->root, (uint8_t)e->level,
					      (uint8_t)leaf_state(b, m->vm, r, e) };
	return 0;
}

static int leaf_cmp(const void *a, const void *b)
{
	const struct gp_leaf *x = a, *y = b;
	if (x->gfn != y->gfn)
		return x->gfn < y->gfn ? -1 : 1;
	return x->root < y->root ? -1 : x->root > y->root;
}

static void on_finding(void *arg, const struct finding *f)
{
	struct gpmap *m = arg;
	if (f->vm != m->vm)
		return;
	void *p = realloc(m->findings, (m->nfindings + 1) * sizeof(*m->findings));
	if (!p)
		return;
	m->findings = p;
	struct gp_finding *g = &m->findings[m->nfindings++];
	g->check = f->check;
	g->severity = f->severity;
	g->inconclusive = f->inconclusive;
	g->gfn = f->has_spte ? f->gfn : UINT64_MAX;
	g->level = f->level;
	memcpy(g->message, f->message, sizeof(g->message));
	memcpy(g->evidence, f->evidence, sizeof(g->evidence));
}

size_t gpmap_lower_bound(const struct gpmap *m, uint64_t gfn)
{
	size_t lo = 0, hi = m->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (m->leaves[mid].gfn < gfn)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

enum gp_state gpmap_cell(const struct gpmap *m, uint64_t lo, uint64_t hi)
{
	enum gp_state st = GP_UNMAPPED;
	/* a huge leaf starting before LO still covers it */
	size_t i = gpmap_lower_bound(m, lo > (1ull << 18) ? lo - (1ull << 18) : 0);
	for (; i < m->n && m->leaves[i].gfn <= hi; i++) {
		const struct gp_leaf *l = &m->leaves[i];
		uint64_t end = l->gfn + walk_level_pages(l->level) - 1;
		if (end >= lo && l->state > st)
			st = l->state;
	}
	return st;
}

struct err *gpmap_build(struct session *s, const struct kvm_vm *vm, struct gpmap *m)
{
	memset(m, 0, sizeof(*m));
	m->vm = vm;
	struct walker *w;
	struct err *e = walker_new(s->T, &w);
	if (e)
		return e;
	for (size_t r = 0; r < vm->nroots; r++) {
		struct build b = { s, m, (uint32_t)r, NULL, NULL, 0 };
		struct walk_stats st = { 0 };
		if ((e = walker_run(w, &s->H.masks, &vm->roots[r], NULL, on_entry, &b, &st))) {
			notes_add_err(&s->H.notes, e, "browse walk");
			e = NULL;
		}
		free(b.bm_words);
	}
	walker_free(w);
	qsort(m->leaves, m->n, sizeof(*m->leaves), leaf_cmp);
	struct check_stats cs;
	memset(&cs, 0, sizeof(cs));
	if ((e = check_run(s->T, &s->H, &s->copts, on_finding, m, &cs)))
		return e;
	for (size_t i = 0; i < m->nfindings; i++) /* mark the leaves findings name */
		for (size_t k = gpmap_lower_bound(m, m->findings[i].gfn);
		     k < m->n && m->leaves[k].gfn == m->findings[i].gfn; k++)
			m->leaves[k].state = GP_FINDING;
	m->lo = UINT64_MAX;
	m->hi = 0;
	for (size_t i = 0; i < vm->nslots; i++) {
		if (vm->slots[i].base_gfn < m->lo)
			m->lo = vm->slots[i].base_gfn;
		if (vm->slots[i].base_gfn + vm->slots[i].npages - 1 > m->hi)
			m->hi = vm->slots[i].base_gfn + vm->slots[i].npages - 1;
	}
	if (m->n) {
		if (m->leaves[0].gfn < m->lo)
			m->lo = m->leaves[0].gfn;
		if (m->leaves[m->n - 1].gfn > m->hi)
			m->hi = m->leaves[m->n - 1].gfn;
	}
	if (m->lo > m->hi)
		m->lo = m->hi = 0;
	return NULL;
}

void gpmap_free(struct gpmap *m)
{
	free(m->leaves);
	free(m->findings);
	memset(m, 0, sizeof(*m));
}
