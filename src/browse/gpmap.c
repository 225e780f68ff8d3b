#include "browse/gpmap.h"

#include <stdlib.h>
#include <string.h>

#include "base/array.h"
#include "mmu/walk.h"

/* Findings beyond these are counted, not kept: a damaged dump can make one
 * per SPTE, and the browser must stay within bounded memory. */
#define GP_FINDINGS_MAX (1u << 20)
#define GP_POOL_MAX (64u << 20)
#define GP_PROGRESS_EVERY 65536

const char *gp_state_name(enum gp_state s)
{
	static const char *const n[] = { "unmapped", "read-only", "A=0", "writable",
					 "dirty-logged, recorded", "access-tracked", "MMIO",
					 "writable, dirty-logged, not recorded", "finding" };
	return s < GP_NSTATES ? n[s] : "?";
}

char gp_state_glyph(enum gp_state s)
{
	static const char g[] = ".raWdtML!";
	return s < GP_NSTATES ? g[s] : '?';
}

/* ------------------------------------------------------------ findings */

struct collect {
	struct session *s;
	struct gp_findings *F;
};

static uint32_t pool_add(struct gp_findings *F, const char *msg, const char *evidence)
{
	size_t a = strlen(msg) + 1, b = strlen(evidence) + 1;
	if (F->pool_len + a + b > GP_POOL_MAX)
		return UINT32_MAX;
	if (F->pool_len + a + b > F->pool_cap) {
		size_t cap = F->pool_cap ? F->pool_cap * 2 : 65536;
		while (cap < F->pool_len + a + b)
			cap *= 2;
		char *p = realloc(F->pool, cap);
		if (!p)
			return UINT32_MAX;
		F->pool = p;
		F->pool_cap = cap;
	}
	uint32_t off = (uint32_t)F->pool_len;
	memcpy(F->pool + F->pool_len, msg, a);
	memcpy(F->pool + F->pool_len + a, evidence, b);
	F->pool_len += a + b;
	return off;
}

static void on_finding(void *arg, const struct finding *f)
{
	struct collect *c = arg;
	struct gp_findings *F = c->F;
	if (F->n == GP_FINDINGS_MAX) {
		F->dropped++;
		return;
	}
	void *p = array_room(F->v, F->n, sizeof(*F->v));
	if (!p) {
		F->dropped++;
		return;
	}
	F->v = p;
	const struct kvm_vm *vm = f->vm;
	struct gp_finding *g = &F->v[F->n++];
	*g = (struct gp_finding){
		.vm = (uint32_t)(vm - c->s->H.vms),
		.root = f->root ? (int32_t)(f->root - vm->roots) : -1,
		.gfn = f->has_spte ? f->gfn : UINT64_MAX,
		.spte = f->spte,
		.check = (uint8_t)f->check->id,
		.severity = (uint8_t)f->severity,
		.level = (uint8_t)f->level,
		.inconclusive = f->inconclusive,
		.has_spte = f->has_spte,
		.text = pool_add(F, f->message, f->evidence),
	};
}

static int finding_cmp(const void *a, const void *b)
{
	const struct gp_finding *x = a, *y = b;
	if (x->vm != y->vm)
		return x->vm < y->vm ? -1 : 1;
	if (x->gfn != y->gfn)
		return x->gfn < y->gfn ? -1 : 1;
	return x->check < y->check ? -1 : x->check > y->check;
}

struct err *gp_findings_build(struct session *s, struct gp_findings *F)
{
	memset(F, 0, sizeof(*F));
	struct collect c = { s, F };
	struct err *e = check_run(s->T, &s->H, &s->copts, on_finding, &c, &F->stats);
	if (e)
		return e;
	/* stable order within a gfn: the checks report in walk order */
	if (F->n)
		qsort(F->v, F->n, sizeof(*F->v), finding_cmp);
	return NULL;
}

void gp_findings_free(struct gp_findings *F)
{
	free(F->v);
	free(F->pool);
	memset(F, 0, sizeof(*F));
}

size_t gp_findings_lower_bound(const struct gp_findings *F, uint32_t vm, uint64_t gfn)
{
	size_t lo = 0, hi = F->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct gp_finding *f = &F->v[mid];
		if (f->vm < vm || (f->vm == vm && f->gfn < gfn))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

size_t gp_findings_count(const struct gp_findings *F, uint32_t vm)
{
	return gp_findings_lower_bound(F, vm + 1, 0) - gp_findings_lower_bound(F, vm, 0);
}

const char *gp_finding_message(const struct gp_findings *F, const struct gp_finding *f)
{
	return f->text == UINT32_MAX ? "(text not kept: too many findings)" : F->pool + f->text;
}

const char *gp_finding_evidence(const struct gp_findings *F, const struct gp_finding *f)
{
	if (f->text == UINT32_MAX)
		return "(see `check --vm PID`)";
	const char *m = F->pool + f->text;
	return m + strlen(m) + 1;
}

/* ------------------------------------------------------------ leaf states */

/* What a walk over one root needs to give each leaf its state. */
struct classify {
	struct session *s;
	const struct gp_findings *F;
	uint32_t vm;
	const struct kvm_root *root;
	struct check_vm_books *dl;	/* NULL if the books could not be read */
};

static bool has_finding(const struct classify *c, uint64_t gfn)
{
	for (size_t i = gp_findings_lower_bound(c->F, c->vm, gfn);
	     i < c->F->n && c->F->v[i].vm == c->vm && c->F->v[i].gfn == gfn; i++) {
		const struct gp_finding *f = &c->F->v[i];
		if (f->root < 0 || &c->s->H.vms[c->vm].roots[f->root] == c->root)
			return true;
	}
	return false;
}

static bool leafish(const struct walk_entry *e)
{
	return e->event == WALK_ENTRY &&
	       ((e->kind == SPTE_PRESENT && walk_bits(e)->leaf) || e->kind == SPTE_MMIO ||
		e->kind == SPTE_FROZEN || e->kind == SPTE_GARBAGE);
}

static enum gp_state base_state(const struct classify *c, const struct walk_entry *e)
{
	const struct spte_bits *b = walk_bits(e);
	if (b->kind == SPTE_FROZEN || b->kind == SPTE_GARBAGE)
		return GP_FINDING;
	if (b->kind == SPTE_MMIO)
		return GP_MMIO;
	if (b->access_tracked)
		return GP_ACCESS_TRACKED;
	if (b->writable && c->dl) {
		enum dirty_verdict d = check_vm_books_verdict(c->dl, c->root->smm, e->gfn, b);
		if (d == DIRTY_RECORDED)
			return GP_LOGGED_RECORDED;
		if (d == DIRTY_MISSED)
			return GP_WRITABLE_LOGGED;
	}
	if (!b->accessed)
		return GP_NOT_ACCESSED;
	return b->writable ? GP_WRITABLE : GP_READONLY;
}

static enum gp_state leaf_state(const struct classify *c, const struct walk_entry *e,
				enum gp_state base)
{
	return has_finding(c, e->gfn) ? GP_FINDING : base;
}

static struct err *classify_open(struct session *s, const struct gp_findings *F, uint32_t vm,
				 const struct kvm_root *root, struct classify *c)
{
	*c = (struct classify){ s, F, vm, root, NULL };
	struct err *e = check_vm_books_open(s->T, &s->H, &s->H.vms[vm], &s->H.notes, &c->dl);
	if (e) /* states without the log; the checks already said why */
		notes_add_err(&s->H.notes, e, "browse: dirty log");
	return NULL;
}

/* ------------------------------------------------------------ the map */

struct build {
	struct classify c;
	struct gpmap *m;
	gp_progress_fn progress;
	void *arg;
	uint64_t seen;
	bool nomem;
};

static int on_map_entry(void *arg, const struct walk_entry *e)
{
	struct build *b = arg;
	struct gpmap *m = b->m;
	if (b->progress && ++b->seen % GP_PROGRESS_EVERY == 0)
		b->progress(b->arg, b->seen);
	if (e->event != WALK_ENTRY) {
		m->unreadable++;
		return 0;
	}
	if (!leafish(e))
		return 0;
	enum gp_state st = leaf_state(&b->c, e, base_state(&b->c, e));
	uint64_t n = e->kind == SPTE_PRESENT ? walk_level_pages(e->level) : 1;
	m->leaves++;
	m->count[st]++;
	/* The walk goes in ascending gfn order: extend the last run or add one. */
	if (m->nruns) {
		struct gp_run *last = &m->runs[m->nruns - 1];
		/* positions in the root's own space: L2 gfns under a nested root */
		if (last->state == st && last->gfn + last->n == e->addr_gfn) {
			last->n += n;
			return 0;
		}
	}
	void *p = array_room(m->runs, m->nruns, sizeof(*m->runs));
	if (!p) {
		b->nomem = true;
		return 1;
	}
	m->runs = p;
	m->runs[m->nruns++] = (struct gp_run){ e->addr_gfn, n, (uint8_t)st };
	return 0;
}

struct err *gpmap_build(struct session *s, const struct gp_findings *F, uint32_t vm, size_t root,
			gp_progress_fn progress, void *arg, struct gpmap *m)
{
	memset(m, 0, sizeof(*m));
	const struct kvm_vm *v = &s->H.vms[vm];
	m->vm = v;
	m->root = root;
	struct build b = { .m = m, .progress = progress, .arg = arg };
	struct err *e = classify_open(s, F, vm, root < v->nroots ? &v->roots[root] : NULL, &b.c);
	if (e)
		return e;
	if (root < v->nroots) {
		struct walker *w;
		if (!(e = walker_new(s->T, &w))) {
			struct walk_stats st = { 0 };
			e = walker_run(w, &s->H.masks, &v->roots[root], NULL, on_map_entry, &b, &st);
			walker_free(w);
		}
	}
	m->pml = b.c.dl && check_vm_books_pml(b.c.dl);
	check_vm_books_close(b.c.dl);
	if (!e && b.nomem)
		e = err_new(ERR_NOMEM, "out of memory building the map of VM %d", v->pid);
	if (e) {
		gpmap_free(m);
		return e;
	}
	m->lo = UINT64_MAX;
	m->hi = 0;
	int as = root < v->nroots ? v->roots[root].smm : 0;
	for (size_t i = 0; i < v->nslots; i++) {
		const struct kvm_memslot *sl = &v->slots[i];
		if (sl->as_id != as || !sl->npages)
			continue;
		if (sl->base_gfn < m->lo)
			m->lo = sl->base_gfn;
		if (sl->base_gfn + sl->npages - 1 > m->hi)
			m->hi = sl->base_gfn + sl->npages - 1;
	}
	if (m->nruns) {
		if (m->runs[0].gfn < m->lo)
			m->lo = m->runs[0].gfn;
		const struct gp_run *l = &m->runs[m->nruns - 1];
		if (l->gfn + l->n - 1 > m->hi)
			m->hi = l->gfn + l->n - 1;
	}
	if (m->lo > m->hi)
		m->lo = m->hi = 0;
	return NULL;
}

void gpmap_free(struct gpmap *m)
{
	free(m->runs);
	memset(m, 0, sizeof(*m));
}

enum gp_state gpmap_cell(const struct gpmap *m, uint64_t lo, uint64_t hi)
{
	size_t a = 0, z = m->nruns;
	while (a < z) { /* first run ending at or after LO */
		size_t mid = a + (z - a) / 2;
		if (m->runs[mid].gfn + m->runs[mid].n - 1 < lo)
			a = mid + 1;
		else
			z = mid;
	}
	enum gp_state st = GP_UNMAPPED;
	for (; a < m->nruns && m->runs[a].gfn <= hi; a++)
		if (m->runs[a].state > st)
			st = m->runs[a].state;
	return st;
}

/* ------------------------------------------------------------ lists */

struct listing {
	struct classify c;
	uint64_t lo;
	size_t max, n;
	struct gp_leaf *v;
	bool truncated, nomem;
};

static int on_list_entry(void *arg, const struct walk_entry *e)
{
	struct listing *L = arg;
	if (!leafish(e))
		return 0;
	uint64_t n = e->kind == SPTE_PRESENT ? walk_level_pages(e->level) : 1;
	if (e->addr_gfn + n - 1 < L->lo)
		return 0;
	if (L->n == L->max) {
		L->truncated = true;
		return 1;
	}
	void *p = array_room(L->v, L->n, sizeof(*L->v));
	if (!p) {
		L->nomem = true;
		return 1;
	}
	L->v = p;
	enum gp_state base = base_state(&L->c, e);
	L->v[L->n++] = (struct gp_leaf){ e->addr_gfn, e->spte, e->gfn, (uint8_t)e->level,
					 (uint8_t)leaf_state(&L->c, e, base), (uint8_t)base };
	return 0;
}

struct err *gpmap_list(struct session *s, const struct gp_findings *F, const struct gpmap *m,
		       uint64_t lo, uint64_t hi, size_t max, struct gp_leaf **out, size_t *n,
		       bool *truncated)
{
	*out = NULL;
	*n = 0;
	*truncated = false;
	const struct kvm_vm *v = m->vm;
	if (m->root >= v->nroots)
		return NULL;
	struct listing L = { .lo = lo, .max = max };
	struct err *e = classify_open(s, F, (uint32_t)(v - s->H.vms), &v->roots[m->root], &L.c);
	if (e)
		return e;
	struct walker *w;
	if (!(e = walker_new(s->T, &w))) {
		struct walk_stats st = { 0 };
		struct walk_range r = { lo, hi };
		e = walker_run(w, &s->H.masks, &v->roots[m->root], &r, on_list_entry, &L, &st);
		walker_free(w);
	}
	check_vm_books_close(L.c.dl);
	if (!e && L.nomem)
		e = err_new(ERR_NOMEM, "out of memory listing SPTEs");
	if (e) {
		free(L.v);
		return e;
	}
	*out = L.v;
	*n = L.n;
	*truncated = L.truncated;
	return NULL;
}

struct err *gpmap_host(struct session *s, const struct gpmap *m, uint64_t hva,
		       struct check_host_page *out)
{
	struct check_vm_books *d;
	struct err *e = check_vm_books_open(s->T, &s->H, m->vm, &s->H.notes, &d);
	if (e)
		return e;
	e = check_vm_books_host(d, hva, out);
	check_vm_books_close(d);
	return e;
}

struct pfn_search {
	uint64_t pfn, gfn;
};

static int on_pfn_entry(void *arg, const struct walk_entry *e)
{
	struct pfn_search *p = arg;
	if (e->event != WALK_ENTRY || e->kind != SPTE_PRESENT || !walk_bits(e)->leaf)
		return 0;
	uint64_t n = walk_level_pages(e->level);
	if (p->pfn >= walk_bits(e)->pfn && p->pfn - walk_bits(e)->pfn < n) {
		p->gfn = e->gfn + (p->pfn - walk_bits(e)->pfn);
		return 1;
	}
	return 0;
}

uint64_t gpmap_find_pfn(struct session *s, const struct gpmap *m, uint64_t pfn)
{
	struct pfn_search p = { pfn, UINT64_MAX };
	struct walker *w;
	if (m->root >= m->vm->nroots)
		return UINT64_MAX;
	struct err *e = walker_new(s->T, &w);
	if (e) {
		err_free(e);
		return UINT64_MAX;
	}
	struct walk_stats st = { 0 };
	e = walker_run(w, &s->H.masks, &m->vm->roots[m->root], NULL, on_pfn_entry, &p, &st);
	err_free(e);
	walker_free(w);
	return p.gfn;
}
