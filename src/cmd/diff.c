/* `diff DUMP2`: what changed from the session's dump (A) to DUMP2 (B).
 *
 * VMs are matched by struct kvm address and owner pid, memslots by address
 * space and id, roots by kvm_mmu_page address (else, for a root that was
 * replaced, by role among the unmatched).  SPTEs of each pair of roots are
 * compared by streaming both walks in gfn order and merging them: B's walk
 * runs in a second thread into a small queue, A's walk consumes it, so memory
 * does not grow with the number of SPTEs.  The walks emit entries
 * depth-first in table order, which is (gfn ascending, level descending). */
#define _GNU_SOURCE
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/session.h"

#define DIFF_QUEUE 1024
#define DIFF_MAX_FINDINGS 100000

struct dq_item {
	enum walk_event event;
	int level, index;
	uint64_t gfn, spte, table_pa;
	struct spte_bits bits;
	char why[160];
};

/* B's walk, producing into a bounded queue. */
struct dq {
	pthread_mutex_t mu;
	pthread_cond_t not_full, not_empty;
	struct dq_item items[DIFF_QUEUE];
	size_t head, n;
	bool done, stop;
	struct err *err;
	/* the producer's walk */
	struct walker *w;
	const struct spte_masks *m;
	const struct kvm_root *root;
	const struct walk_range *range;
};

static int dq_push(void *arg, const struct walk_entry *e)
{
	struct dq *q = arg;
	pthread_mutex_lock(&q->mu);
	while (q->n == DIFF_QUEUE && !q->stop)
		pthread_cond_wait(&q->not_full, &q->mu);
	if (q->stop) {
		pthread_mutex_unlock(&q->mu);
		return 1;
	}
	struct dq_item *it = &q->items[(q->head + q->n) % DIFF_QUEUE];
	it->event = e->event;
	it->level = e->level;
	it->index = e->index;
	it->gfn = e->gfn;
	it->spte = e->spte;
	it->table_pa = e->table_pa;
	it->bits = *walk_bits(e);
	snprintf(it->why, sizeof(it->why), "%s", e->why ? e->why : "");
	q->n++;
	pthread_cond_signal(&q->not_empty);
	pthread_mutex_unlock(&q->mu);
	return 0;
}

static void *dq_producer(void *arg)
{
	struct dq *q = arg;
	struct walk_stats st = { 0 };
	struct err *e = walker_run(q->w, q->m, q->root, q->range, dq_push, q, &st);
	pthread_mutex_lock(&q->mu);
	q->err = e;
	q->done = true;
	pthread_cond_signal(&q->not_empty);
	pthread_mutex_unlock(&q->mu);
	return NULL;
}

/* The next B item, or NULL when B's walk is over; stays queued until popped. */
static struct dq_item *dq_peek(struct dq *q)
{
	pthread_mutex_lock(&q->mu);
	while (!q->n && !q->done)
		pthread_cond_wait(&q->not_empty, &q->mu);
	struct dq_item *it = q->n ? &q->items[q->head] : NULL;
	pthread_mutex_unlock(&q->mu);
	return it;
}

static void dq_pop(struct dq *q)
{
	pthread_mutex_lock(&q->mu);
	q->head = (q->head + 1) % DIFF_QUEUE;
	q->n--;
	pthread_cond_signal(&q->not_full);
	pthread_mutex_unlock(&q->mu);
}

struct diff {
	struct session *s;	/* A */
	struct target *TB;
	struct kvm_host HB;
	struct bit_filter bits;
	uint64_t n_vms, n_slots, n_roots, n_added, n_removed, n_changed, n_fapp, n_fres;
	/* the SPTE merge of one pair of roots */
	const struct kvm_vm *vm;
	const struct kvm_root *ra, *rb;
	struct dq *q;
	bool header_done;
};

/* The host a VM was read from: A (the session's) or B. */
static const struct kvm_host *diff_host(const struct diff *d, const struct kvm_vm *vm)
{
	const struct kvm_host *A = &d->s->H;
	return vm >= A->vms && vm < A->vms + A->nvms ? A : &d->HB;
}

static int key_cmp(uint64_t ga, int la, uint64_t gb, int lb)
{
	if (ga != gb)
		return ga < gb ? -1 : 1;
	return la == lb ? 0 : la > lb ? -1 : 1;
}

static bool diff_selected(const struct diff *d, int level, const struct spte_bits *b)
{
	if (d->s->sel.level && level != d->s->sel.level)
		return false;
	if (d->bits.care && (b->kind != SPTE_PRESENT || !bit_filter_match(&d->bits, b)))
		return false;
	return true;
}

static void diff_root_header(struct diff *d)
{
	struct session *s = d->s;
	if (d->header_done || s->json)
		return;
	d->header_done = true;
	fprintf(s->out, "VM %d (kvm 0x%" PRIx64 ")  root 0x%" PRIx64, d->vm->pid, d->vm->addr, d->ra->sp);
	if (d->rb->sp != d->ra->sp)
		fprintf(s->out, " -> 0x%" PRIx64, d->rb->sp);
	fprintf(s->out, "  (level %d%s)\n", d->rb->level, d->rb->smm ? ", SMM" : "");
}

/* "W 1→0 D 1→0": every decoded bit that differs. */
static void bit_deltas(const struct spte_bits *a, const struct spte_bits *b, bool ept, char *buf,
		       size_t len, struct json *j)
{
	const struct { const char *name; bool x, y; } f[] = {
		{ "P", a->hw_present, b->hw_present }, { ept ? "R" : "U", a->readable, b->readable },
		{ "W", a->writable, b->writable }, { "X", a->executable, b->executable },
		{ "A", a->accessed, b->accessed }, { "D", a->dirty, b->dirty }, { "PS", a->huge, b->huge },
		{ "HW", a->host_writable, b->host_writable }, { "MW", a->mmu_writable, b->mmu_writable },
		{ "AT", a->access_tracked, b->access_tracked }, { "leaf", a->leaf, b->leaf },
	};
	size_t o = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		if (f[i].x == f[i].y)
			continue;
		if (j) {
			json_key(j, f[i].name);
			json_arr_begin(j);
			json_u64(j, f[i].x);
			json_u64(j, f[i].y);
			json_arr_end(j);
		}
		if (o < len)
			o += (size_t)snprintf(buf + o, len - o, "%s%s %d\u2192%d", o ? " " : "", f[i].name, f[i].x,
					      f[i].y);
	}
}

enum change { ADDED, REMOVED, CHANGED };

static void diff_spte_out(struct diff *d, enum change c, int level, uint64_t gfn, uint64_t sa,
			  const struct spte_bits *ba, uint64_t sb, const struct spte_bits *bb)
{
	struct session *s = d->s;
	bool ept = s->H.masks.ept;
	if (c == ADDED)
		d->n_added++;
	else if (c == REMOVED)
		d->n_removed++;
	else
		d->n_changed++;
	static const char *const names[] = { "added", "removed", "changed" };
	if (s->json) {
		json_obj_begin(&s->j);
		json_vm(&s->j, diff_host(d, d->vm), d->vm);
		json_khex(&s->j, "root_a", d->ra->sp);
		json_khex(&s->j, "root_b", d->rb->sp);
		json_ki64(&s->j, "level", level);
		json_ku64(&s->j, "gfn", gfn);
		json_kstr(&s->j, "change", names[c]);
		json_key(&s->j, "spte_a");
		c == ADDED ? json_null(&s->j) : json_hex(&s->j, sa);
		json_key(&s->j, "spte_b");
		c == REMOVED ? json_null(&s->j) : json_hex(&s->j, sb);
		const struct spte_bits *one = c == ADDED ? bb : ba;
		if (c != CHANGED) {
			json_spte_bits(&s->j, one, ept);	/* the object "bits" */
		} else {
			json_kstr(&s->j, "kind_a", spte_kind_name(ba->kind));
			json_kstr(&s->j, "kind_b", spte_kind_name(bb->kind));
			json_ku64(&s->j, "pfn_a", ba->pfn);
			json_ku64(&s->j, "pfn_b", bb->pfn);
			char tmp[8];
			json_key(&s->j, "deltas");
			json_obj_begin(&s->j);
			bit_deltas(ba, bb, ept, tmp, 0, &s->j);
			json_obj_end(&s->j);
		}
		json_obj_end(&s->j);
		return;
	}
	diff_root_header(d);
	char flags[96], deltas[160];
	if (c != CHANGED) {
		const struct spte_bits *one = c == ADDED ? bb : ba;
		spte_flags_str(one, ept, flags, sizeof(flags));
		fprintf(s->out, "  %c L%d gfn 0x%-10" PRIx64 " spte 0x%016" PRIx64 "  %s 0x%" PRIx64 " [%s]%s\n",
			c == ADDED ? '+' : '-', level, gfn, c == ADDED ? sb : sa,
			one->kind == SPTE_MMIO ? "mmio gfn" : "pfn", one->kind == SPTE_MMIO ? one->mmio_gfn : one->pfn,
			flags, one->kind == SPTE_PRESENT && !one->leaf ? " (table)" : "");
		return;
	}
	bit_deltas(ba, bb, ept, deltas, sizeof(deltas), NULL);
	fprintf(s->out, "  ~ L%d gfn 0x%-10" PRIx64 " ", level, gfn);
	if (ba->kind != bb->kind)
		fprintf(s->out, "%s\u2192%s ", spte_kind_name(ba->kind), spte_kind_name(bb->kind));
	if (ba->pfn != bb->pfn && ba->kind == SPTE_PRESENT && bb->kind == SPTE_PRESENT)
		fprintf(s->out, "pfn 0x%" PRIx64 "\u21920x%" PRIx64 " ", ba->pfn, bb->pfn);
	fprintf(s->out, "%s%s(spte 0x%" PRIx64 "\u21920x%" PRIx64 ")\n", deltas, *deltas ? "  " : "", sa, sb);
}

static void diff_walk_note(struct diff *d, const char *side, enum walk_event ev, int level, uint64_t gfn,
			   uint64_t table_pa, const char *why)
{
	(void)ev;
	notes_add(&d->s->walk_notes, "dump %s: VM %d root 0x%" PRIx64 ": table 0x%" PRIx64 " (level %d, gfn 0x%"
		  PRIx64 "): %s", side, d->vm->pid, side[0] == 'A' ? d->ra->sp : d->rb->sp, table_pa, level,
		  gfn, why ? why : "");
	d->s->exit_bits |= EXIT_INCOMPLETE;
}

/* Everything B has that sorts before (GFN, LEVEL) is added. */
static void diff_drain_before(struct diff *d, uint64_t gfn, int level, bool all)
{
	struct dq_item *it;
	while ((it = dq_peek(d->q)) && (all || key_cmp(it->gfn, it->level, gfn, level) < 0)) {
		if (it->event != WALK_ENTRY)
			diff_walk_note(d, "B", it->event, it->level, it->gfn, it->table_pa, it->why);
		else if (diff_selected(d, it->level, &it->bits))
			diff_spte_out(d, ADDED, it->level, it->gfn, 0, NULL, it->spte, &it->bits);
		dq_pop(d->q);
	}
}

static int diff_entry(void *arg, const struct walk_entry *e)
{
	struct diff *d = arg;
	if (e->event != WALK_ENTRY) {
		diff_walk_note(d, "A", e->event, e->level, e->gfn, e->table_pa, e->why);
		return 0;
	}
	diff_drain_before(d, e->gfn, e->level, false);
	struct dq_item *it = dq_peek(d->q);
	if (it && it->event == WALK_ENTRY && key_cmp(it->gfn, it->level, e->gfn, e->level) == 0) {
		if (it->spte != e->spte && (diff_selected(d, e->level, walk_bits(e)) || diff_selected(d, it->level, &it->bits)))
			diff_spte_out(d, CHANGED, e->level, e->gfn, e->spte, walk_bits(e), it->spte, &it->bits);
		dq_pop(d->q);
	} else if (diff_selected(d, e->level, walk_bits(e))) {
		diff_spte_out(d, REMOVED, e->level, e->gfn, e->spte, walk_bits(e), 0, NULL);
	}
	return 0;
}

static struct err *diff_roots_sptes(struct diff *d, struct walker *wa, struct walker *wb)
{
	struct dq *q = calloc(1, sizeof(*q));
	if (!q)
		return err_new(ERR_NOMEM, "out of memory");
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->not_full, NULL);
	pthread_cond_init(&q->not_empty, NULL);
	q->w = wb;
	q->m = &d->HB.masks;
	q->root = d->rb;
	q->range = &d->s->sel.range;
	d->q = q;
	d->header_done = false;
	pthread_t th;
	struct err *e = NULL;
	if (pthread_create(&th, NULL, dq_producer, q)) {
		e = err_new(ERR_OS, "diff: cannot start a thread");
	} else {
		struct walk_stats st = { 0 };
		e = walker_run(wa, &d->s->H.masks, d->ra, &d->s->sel.range, diff_entry, d, &st);
		if (!e)
			diff_drain_before(d, 0, 0, true);
		pthread_mutex_lock(&q->mu);
		q->stop = true; /* an A error: let B's walk end */
		pthread_cond_broadcast(&q->not_full);
		pthread_mutex_unlock(&q->mu);
		pthread_join(th, NULL);
		if (q->err) {
			notes_add_err(&d->s->walk_notes, q->err, "walk of dump B");
			d->s->exit_bits |= EXIT_INCOMPLETE;
		}
	}
	pthread_mutex_destroy(&q->mu);
	pthread_cond_destroy(&q->not_full);
	pthread_cond_destroy(&q->not_empty);
	free(q);
	d->q = NULL;
	return e;
}

static const struct kvm_vm *vm_match(const struct kvm_host *H, const struct kvm_vm *vm)
{
	for (size_t i = 0; i < H->nvms; i++)
		if (H->vms[i].addr == vm->addr && H->vms[i].pid == vm->pid)
			return &H->vms[i];
	return NULL;
}

static void vm_out(struct diff *d, const struct kvm_vm *vm, const char *what)
{
	struct session *s = d->s;
	d->n_vms++;
	if (s->json) {
		json_obj_begin(&s->j);
		json_kstr(&s->j, "change", what);
		json_vm(&s->j, diff_host(d, vm), vm);
		json_kstr(&s->j, "comm", vm->comm);
		json_ku64(&s->j, "memslots", vm->nslots);
		json_ku64(&s->j, "roots", vm->nroots);
		json_obj_end(&s->j);
	} else {
		fprintf(s->out, "VM %d (%s, kvm 0x%" PRIx64 ") %s: %zu memslots, %zu roots\n", vm->pid, vm->comm,
			vm->addr, what, vm->nslots, vm->nroots);
	}
}

static void slot_json(struct json *j, const char *key, const struct kvm_memslot *m)
{
	json_key(j, key);
	if (!m) {
		json_null(j);
		return;
	}
	json_obj_begin(j);
	json_ku64(j, "base_gfn", m->base_gfn);
	json_ku64(j, "npages", m->npages);
	json_ku64(j, "flags", m->flags);
	json_khex(j, "userspace_addr", m->userspace_addr);
	json_obj_end(j);
}

static void slot_out(struct diff *d, const struct kvm_vm *vm, const struct kvm_memslot *a,
		     const struct kvm_memslot *b)
{
	struct session *s = d->s;
	char what[96] = "";
	size_t o = 0;
	if (a && b) {
		if (a->base_gfn != b->base_gfn)
			o += (size_t)snprintf(what + o, sizeof(what) - o, "%smoved", o ? "," : "");
		if (a->npages != b->npages)
			o += (size_t)snprintf(what + o, sizeof(what) - o, "%sresized", o ? "," : "");
		if (a->flags != b->flags)
			o += (size_t)snprintf(what + o, sizeof(what) - o, "%sflags", o ? "," : "");
		if (a->userspace_addr != b->userspace_addr)
			o += (size_t)snprintf(what + o, sizeof(what) - o, "%shva", o ? "," : "");
		if (!o)
			return;
	}
	d->n_slots++;
	const struct kvm_memslot *m = b ? b : a;
	const char *change = !a ? "added" : !b ? "removed" : "changed";
	if (s->json) {
		json_obj_begin(&s->j);
		json_vm(&s->j, diff_host(d, vm), vm);
		json_ki64(&s->j, "as_id", m->as_id);
		json_ki64(&s->j, "id", m->id);
		json_kstr(&s->j, "change", change);
		json_kstr(&s->j, "what", a && b ? what : NULL);
		slot_json(&s->j, "a", a);
		slot_json(&s->j, "b", b);
		json_obj_end(&s->j);
		return;
	}
	fprintf(s->out, "VM %d memslot %d (as %d) %s%s%s%s:", vm->pid, m->id, m->as_id, change,
		a && b ? " (" : "", a && b ? what : "", a && b ? ")" : "");
	if (a)
		fprintf(s->out, " gfn 0x%" PRIx64 "+0x%" PRIx64 " flags 0x%x hva 0x%" PRIx64, a->base_gfn, a->npages,
			a->flags, a->userspace_addr);
	if (a && b)
		fprintf(s->out, " \u2192");
	if (b)
		fprintf(s->out, " gfn 0x%" PRIx64 "+0x%" PRIx64 " flags 0x%x hva 0x%" PRIx64, b->base_gfn, b->npages,
			b->flags, b->userspace_addr);
	fputc('\n', s->out);
}

static const struct kvm_root *root_by_sp(const struct kvm_vm *vm, uint64_t sp)
{
	for (size_t i = 0; i < vm->nroots; i++)
		if (kvm_root_id(&vm->roots[i]) == sp)
			return &vm->roots[i];
	return NULL;
}

static void root_out(struct diff *d, const struct kvm_vm *vm, const struct kvm_root *r, const char *what)
{
	struct session *s = d->s;
	d->n_roots++;
	if (s->json) {
		json_obj_begin(&s->j);
		json_vm(&s->j, diff_host(d, vm), vm);
		json_khex(&s->j, "sp", r->sp);
		json_kstr(&s->j, "change", what);
		json_khex(&s->j, "role", r->role);
		json_ki64(&s->j, "level", r->level);
		json_ki64(&s->j, "smm", r->smm);
		json_obj_end(&s->j);
	} else {
		fprintf(s->out, "VM %d root 0x%" PRIx64 " (role 0x%x, level %d%s) %s\n", vm->pid, r->sp, r->role,
			r->level, r->smm ? ", SMM" : "", what);
	}
}

/* B's partner in A: the same kvm_mmu_page, else a root of the same role
 * that B no longer has (it was replaced). */
static const struct kvm_root *root_partner(const struct kvm_vm *va, const struct kvm_vm *vb,
					   const struct kvm_root *rb)
{
	const struct kvm_root *ra = root_by_sp(va, kvm_root_id(rb));
	if (ra && ra->role == rb->role)
		return ra;
	for (size_t i = 0; i < va->nroots; i++) {
		const struct kvm_root *c = &va->roots[i];
		const struct kvm_root *still = root_by_sp(vb, kvm_root_id(c));
		if (c->role == rb->role && !c->invalid && (!still || still->role != c->role) && !rb->invalid)
			return c;
	}
	return NULL;
}

/* Findings of one side, kept for the comparison (few on a sane host). */
struct flist {
	struct finding *f;
	size_t n, cap;
	bool full;
	const struct session *s;
};

static void flist_add(void *arg, const struct finding *f)
{
	struct flist *l = arg;
	if (l->s->sel.vm_pid >= 0 && f->vm->pid != l->s->sel.vm_pid)
		return;
	if (f->has_spte && (f->gfn > l->s->sel.range.gfn_hi ||
			    f->gfn + walk_level_pages(f->level) - 1 < l->s->sel.range.gfn_lo))
		return;
	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 64;
		struct finding *nf = nc <= DIFF_MAX_FINDINGS ? realloc(l->f, nc * sizeof(*nf)) : NULL;
		if (!nf) {
			l->full = true;
			return;
		}
		l->f = nf;
		l->cap = nc;
	}
	l->f[l->n++] = *f;
}

/* One finding is the same on both sides when check, VM, gfn, level and
 * message agree (the SPTE and evidence may differ: that is what changed). */
static int finding_cmp(const void *pa, const void *pb)
{
	const struct finding *a = pa, *b = pb;
	if (a->check->id != b->check->id)
		return a->check->id < b->check->id ? -1 : 1;
	if (a->vm->addr != b->vm->addr)
		return a->vm->addr < b->vm->addr ? -1 : 1;
	if (a->vm->pid != b->vm->pid)
		return a->vm->pid < b->vm->pid ? -1 : 1;
	if (a->has_spte != b->has_spte)
		return a->has_spte ? 1 : -1;
	if (a->has_spte && a->gfn != b->gfn)
		return a->gfn < b->gfn ? -1 : 1;
	if (a->has_spte && a->level != b->level)
		return a->level < b->level ? -1 : 1;
	return strcmp(a->message, b->message);
}

/* FROM's findings that OTHER lacks; both sorted by finding_cmp. */
static void findings_out(struct diff *d, const struct flist *from, const struct flist *other, const char *what)
{
	struct session *s = d->s;
	size_t k = 0;
	for (size_t i = 0; i < from->n; i++) {
		while (k < other->n && finding_cmp(&other->f[k], &from->f[i]) < 0)
			k++;
		if (k < other->n && !finding_cmp(&other->f[k], &from->f[i]))
			continue;
		const struct finding *f = &from->f[i];
		*(what[0] == 'a' ? &d->n_fapp : &d->n_fres) += 1;
		if (s->json) {
			json_obj_begin(&s->j);
			json_kstr(&s->j, "change", what);
			json_key(&s->j, "finding");
			finding_json(&s->j, diff_host(d, f->vm), f);
			json_obj_end(&s->j);
		} else {
			fprintf(s->out, "finding %s: %s %s VM %d", what, f->check->name, severity_name(f->severity),
				f->vm->pid);
			if (f->has_spte)
				fprintf(s->out, " gfn 0x%" PRIx64 " L%d spte 0x%016" PRIx64, f->gfn, f->level, f->spte);
			fprintf(s->out, ": %s\n     evidence: %s\n", f->message, f->evidence);
		}
	}
}

/* A list of the document; with --json-lines its elements stream one a line. */
static void section(struct diff *d, const char *key)
{
	out_list_open(d->s, key);
}

static void section_end(struct diff *d)
{
	out_list_close(d->s);
}

struct err *cmd_diff(struct session *s, int argc, char **argv)
{
	if (argc < 2 || argc > 3)
		return err_new(ERR_USAGE, "diff: expected DUMP2 [BITS] (spte-inspect DUMP diff DUMP2, or "
			       "spte-inspect diff DUMP DUMP2)");
	struct diff d;
	memset(&d, 0, sizeof(d));
	d.s = s;
	struct err *e = NULL;
	if (argc == 3 && (e = bit_filter_parse(argv[2], &d.bits)))
		return e;
	if ((e = target_open(argv[1], s->topts, &d.TB)))
		return err_wrap(e, "diff"); /* the message names the file */
	if ((e = kvm_host_load(d.TB, &d.HB))) {
		target_close(d.TB);
		return err_wrap(e, "diff: %s", argv[1]);
	}
	for (size_t i = 0; i < d.HB.notes.n; i++)
		notes_add(&s->walk_notes, "dump B: %s", d.HB.notes.msg[i]);
	if (d.HB.notes.n)
		s->exit_bits |= EXIT_INCOMPLETE;
	if (s->json) {
		out_open(s, "diff", NULL, NULL);
		json_kstr(&s->j, "dump_b", argv[1]);
	}
	const struct kvm_host *HA = &s->H, *HB = &d.HB;

	/* VMs */
	section(&d, "vms");
	for (size_t i = 0; i < HA->nvms; i++)
		if (select_vm(&s->sel, &HA->vms[i]) && !vm_match(HB, &HA->vms[i]))
			vm_out(&d, &HA->vms[i], "gone");
	for (size_t i = 0; i < HB->nvms; i++)
		if (select_vm(&s->sel, &HB->vms[i]) && !vm_match(HA, &HB->vms[i]))
			vm_out(&d, &HB->vms[i], "appeared");
	section_end(&d);

	/* memslots */
	section(&d, "memslots");
	for (size_t i = 0; i < HA->nvms; i++) {
		const struct kvm_vm *va = &HA->vms[i], *vb = vm_match(HB, va);
		if (!select_vm(&s->sel, va) || !vb)
			continue;
		for (size_t k = 0; k < va->nslots; k++) {
			const struct kvm_memslot *a = &va->slots[k], *b = NULL;
			for (size_t m = 0; m < vb->nslots; m++)
				if (vb->slots[m].as_id == a->as_id && vb->slots[m].id == a->id)
					b = &vb->slots[m];
			slot_out(&d, va, a, b);
		}
		for (size_t m = 0; m < vb->nslots; m++) {
			bool found = false;
			for (size_t k = 0; k < va->nslots; k++)
				found |= va->slots[k].as_id == vb->slots[m].as_id && va->slots[k].id == vb->slots[m].id;
			if (!found)
				slot_out(&d, va, NULL, &vb->slots[m]);
		}
	}
	section_end(&d);

	/* roots */
	section(&d, "roots");
	for (size_t i = 0; i < HA->nvms; i++) {
		const struct kvm_vm *va = &HA->vms[i], *vb = vm_match(HB, va);
		if (!select_vm(&s->sel, va) || !vb)
			continue;
		for (size_t k = 0; k < va->nroots; k++) {
			const struct kvm_root *a = &va->roots[k], *b = root_by_sp(vb, kvm_root_id(a));
			if (s->sel.root && s->sel.root != kvm_root_id(a))
				continue;
			if (!b || b->role != a->role)
				root_out(&d, va, a, "gone");
			else if (!a->invalid && b->invalid)
				root_out(&d, va, b, "invalidated");
		}
		for (size_t k = 0; k < vb->nroots; k++) {
			const struct kvm_root *b = &vb->roots[k], *a = root_by_sp(va, kvm_root_id(b));
			if (s->sel.root && s->sel.root != kvm_root_id(b))
				continue;
			if (!a || a->role != b->role)
				root_out(&d, vb, b, "created");
		}
	}
	section_end(&d);

	/* SPTEs: each pair of roots, both walks streamed and merged */
	section(&d, "sptes");
	struct walker *wa = NULL, *wb = NULL;
	if (!(e = walker_new(s->T, &wa)) && !(e = walker_new(d.TB, &wb))) {
		for (size_t i = 0; i < HB->nvms && !e; i++) {
			const struct kvm_vm *vb = &HB->vms[i], *va = vm_match(HA, vb);
			if (!va || !select_vm(&s->sel, va))
				continue;
			for (size_t k = 0; k < vb->nroots && !e; k++) {
				const struct kvm_root *rb = &vb->roots[k], *ra = root_partner(va, vb, rb);
				if (!ra || (s->sel.root && s->sel.root != kvm_root_id(ra) && s->sel.root != kvm_root_id(rb)))
					continue;
				d.vm = va;
				d.ra = ra;
				d.rb = rb;
				e = diff_roots_sptes(&d, wa, wb);
			}
		}
	}
	walker_free(wa);
	walker_free(wb);
	section_end(&d);

	/* findings */
	if (!e) {
		struct flist fa = { .s = s }, fb = { .s = s };
		struct check_stats sa = { 0 }, sb = { 0 };
		e = check_run(s->T, &s->H, &s->copts, flist_add, &fa, &sa);
		if (!e)
			e = check_run(d.TB, &d.HB, &s->copts, flist_add, &fb, &sb);
		if (fa.full || fb.full) {
			notes_add(&s->walk_notes, "diff: more than %d findings on one side: not all compared",
				  DIFF_MAX_FINDINGS);
			s->exit_bits |= EXIT_INCOMPLETE;
		}
		if (sa.inconclusive || sb.inconclusive)
			s->exit_bits |= EXIT_INCOMPLETE;
		section(&d, "findings");
		if (fa.n)
			qsort(fa.f, fa.n, sizeof(*fa.f), finding_cmp);
		if (fb.n)
			qsort(fb.f, fb.n, sizeof(*fb.f), finding_cmp);
		if (!e) {
			findings_out(&d, &fb, &fa, "appeared");
			findings_out(&d, &fa, &fb, "resolved");
		}
		section_end(&d);
		free(fa.f);
		free(fb.f);
	}
	uint64_t total = d.n_vms + d.n_slots + d.n_roots + d.n_added + d.n_removed + d.n_changed + d.n_fapp + d.n_fres;
	if (total)
		s->exit_bits |= EXIT_FINDINGS;
	if (s->json) {
		json_ku64(&s->j, "differences", total);
		out_close(s);
	} else if (!e) {
		fprintf(s->out, "\ndifferences: %" PRIu64 " (VMs %" PRIu64 ", memslots %" PRIu64 ", roots %" PRIu64
			", SPTEs +%" PRIu64 " -%" PRIu64 " ~%" PRIu64 ", findings +%" PRIu64 " -%" PRIu64 ")\n", total,
			d.n_vms, d.n_slots, d.n_roots, d.n_added, d.n_removed, d.n_changed, d.n_fapp, d.n_fres);
		text_notes(s);
	}
	kvm_host_fini(&d.HB);
	target_close(d.TB);
	return e;
}
