/* `summary` reads the SPTE tree once (issue 18): on a real dump (argv[1]),
 * every SPTE table is read exactly once by a default summary (the check
 * walk counts for it), and twice by the two-walk path a --gfn-range takes
 * (the same range written so that it covers every gfn, so both must print
 * the same bytes).  Text and JSON, exit bits included.  TAP output. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/session.h"
#include "tap.h"

/* The tables the walk meets (the ones holding an entry), sorted, and how
 * often each was read in 4 KiB. */
struct tables {
	uint64_t *pa;
	unsigned *reads;
	size_t n, cap;
};

/* A table entry below the root, to point back at the root (a loop). */
static struct walk_entry inner;
static uint64_t inner_root_pa;

static int collect(void *arg, const struct walk_entry *e)
{
	struct tables *t = arg;
	if (e->event != WALK_ENTRY)
		return 0;
	if (!inner.root && walk_bits(e)->kind == SPTE_PRESENT && !walk_bits(e)->leaf &&
	    e->level < e->root->level && !e->root->shadow) {
		inner = *e;
		inner_root_pa = e->root->spt_pa;
	}
	for (size_t i = t->n; i-- > 0;) /* entries of one table come together */
		if (t->pa[i] == e->table_pa)
			return 0;
	if (t->n == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 64;
		t->pa = realloc(t->pa, t->cap * sizeof(*t->pa));
		if (!t->pa)
			abort();
	}
	t->pa[t->n++] = e->table_pa;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void observe(void *arg, struct dump *d, bool virt, uint64_t addr, const void *buf, size_t len)
{
	struct tables *t = arg;
	(void)d;
	(void)buf;
	if (virt || len != 4096)
		return;
	uint64_t *p = bsearch(&addr, t->pa, t->n, sizeof(*t->pa), cmp_u64);
	if (p)
		t->reads[p - t->pa]++;
}

/* Every table read exactly N times (min and max over the tables). */
static void reads_range(const struct tables *t, unsigned *lo, unsigned *hi)
{
	*lo = ~0u;
	*hi = 0;
	for (size_t i = 0; i < t->n; i++) {
		*lo = t->reads[i] < *lo ? t->reads[i] : *lo;
		*hi = t->reads[i] > *hi ? t->reads[i] : *hi;
	}
}

/* The notes opening made; each run starts from these (runs add notes, and
 * notes are kept once: a second run would inherit the first one's order). */
static size_t notes0;

/* One summary into a string; its exit bits in *BITS. */
static char *run(struct session *s, bool json, uint64_t gfn_hi, int *bits, struct tables *t)
{
	while (s->H.notes.n > notes0)
		free(s->H.notes.msg[--s->H.notes.n]);
	s->H.notes.dropped = 0;
	notes_fini(&s->walk_notes);
	char *buf = NULL;
	size_t len = 0;
	s->out = open_memstream(&buf, &len);
	if (!s->out)
		abort();
	s->json = json;
	s->exit_bits = 0;
	s->sel.range.gfn_lo = 0;
	s->sel.range.gfn_hi = gfn_hi;
	memset(t->reads, 0, t->n * sizeof(*t->reads));
	dump_set_observer(observe, t);
	char *argv[] = { "summary" };
	struct err *e = cmd_summary(s, 1, argv);
	dump_set_observer(NULL, NULL);
	if (e) {
		fprintf(s->out, "error: %s\n", e->msg);
		err_free(e);
	}
	fclose(s->out);
	s->out = stdout;
	*bits = s->exit_bits;
	return buf;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: test-summary-pass DUMP\n");
		return 2;
	}
	struct session s;
	memset(&s, 0, sizeof(s));
	s.sel.vm_pid = -1;
	s.sel.range.gfn_hi = UINT64_MAX;
	s.out = stdout;
	check_opts_default(&s.copts);
	struct target_opts to = { 0 };
	s.topts = &to;
	struct err *e = target_open(argv[1], &to, &s.T);
	if (!e)
		e = kvm_host_load(s.T, &s.H);
	struct walker *w = NULL;
	if (!e)
		e = walker_new(s.T, &w);
	if (e) {
		printf("Bail out! %s\n", e->msg);
		return 1;
	}
	notes0 = s.H.notes.n;
	struct tables t = { 0 };
	for (size_t i = 0; i < s.H.nvms; i++)
		for (size_t k = 0; k < s.H.vms[i].nroots; k++) {
			struct walk_stats ws = { 0 };
			err_free(walker_run(w, &s.H.masks, &s.H.vms[i].roots[k], NULL, collect, &t, &ws));
		}
	walker_free(w);
	if (t.n)
		qsort(t.pa, t.n, sizeof(*t.pa), cmp_u64);
	t.reads = calloc(t.n ? t.n : 1, sizeof(*t.reads));
	if (!t.reads)
		abort();
	printf("# %zu SPTE tables\n", t.n);
	CHECK("the dump has SPTE tables", t.n > 0);

	for (int json = 0; json <= 1; json++) {
		int b1, b2;
		unsigned lo1, hi1, lo2, hi2;
		char *one = run(&s, json, UINT64_MAX, &b1, &t);
		reads_range(&t, &lo1, &hi1);
		char *two = run(&s, json, UINT64_MAX - 1, &b2, &t);
		reads_range(&t, &lo2, &hi2);
		printf("# %s: one pass reads each table %u..%u times, two walks %u..%u\n",
		       json ? "JSON" : "text", lo1, hi1, lo2, hi2);
		CHECK(json ? "JSON: one pass reads every table once" : "text: one pass reads every table once",
		      lo1 == 1 && hi1 == 1);
		CHECK(json ? "JSON: two walks read every table twice" : "text: two walks read every table twice",
		      lo2 == 2 && hi2 == 2);
		CHECK(json ? "JSON: the same bytes either way" : "text: the same bytes either way",
		      !strcmp(one, two));
		CHECK(json ? "JSON: the same exit bits" : "text: the same exit bits", b1 == b2);
		CHECK(json ? "JSON: the counts and the checks are there" : "text: the counts and the checks are there",
		      strstr(one, json ? "\"leaves_by_level\"" : "leaves by state") &&
		      strstr(one, json ? "\"findings\"" : "checks:"));
		free(one);
		free(two);
	}
	/* Damage: walk events (a loop back to the root) and their notes must
	 * come out in the same order as with two walks. */
	static uint8_t page[4096];
	e = inner.root ? dump_read_phys(s.T->dump, inner.table_pa, page, sizeof(page)) : NULL;
	if (inner.root && !e) {
		uint64_t v = (inner.spte & ~s.H.masks.address) | inner_root_pa;
		memcpy(page + inner.index * 8, &v, 8);
		e = dump_overlay_page(s.T->dump, inner.table_pa, page);
	}
	if (e) {
		printf("Bail out! %s\n", e->msg);
		return 1;
	}
	if (inner.root) {
		int b1, b2;
		char *one = run(&s, true, UINT64_MAX, &b1, &t);
		char *two = run(&s, true, UINT64_MAX - 1, &b2, &t);
		printf("# damaged: table 0x%" PRIx64 " entry %d points at its root 0x%" PRIx64 "\n",
		       inner.table_pa, inner.index, inner_root_pa);
		CHECK("damaged: the loop is reported", strstr(one, "table already reached"));
		CHECK("damaged: the same bytes either way", !strcmp(one, two));
		CHECK("damaged: the same exit bits, incomplete among them", b1 == b2 && (b1 & EXIT_INCOMPLETE));
		free(one);
		free(two);
		dump_overlay_clear(s.T->dump);
	}
	free(t.pa);
	free(t.reads);
	notes_fini(&s.walk_notes);
	kvm_host_fini(&s.H);
	target_close(s.T);
	return tap_done();
}
