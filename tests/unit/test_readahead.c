/* Read-ahead threads (-J) on a real dump (argv[1]): opened with one thread
 * and with four (three workers, strict: every page announced is read by a
 * worker, none by the caller), the same walk of every root and the same
 * summary bytes; the workers did read what the caller used (the vmlinux BTF
 * while opening, the SPTE tables while walking) and none of it failed on an
 * undamaged dump.  TAP output. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/session.h"
#include "tap.h"

/* Every walk entry and event, folded (FNV-1a over the fields). */
struct fold {
	uint64_t h, n;
};

static void fold_u64(struct fold *f, uint64_t v)
{
	for (int i = 0; i < 8; i++) {
		f->h ^= (v >> (8 * i)) & 0xff;
		f->h *= UINT64_C(0x100000001b3);
	}
}

static int fold_entry(void *arg, const struct walk_entry *e)
{
	struct fold *f = arg;
	fold_u64(f, (uint64_t)e->event);
	fold_u64(f, (uint64_t)e->level);
	fold_u64(f, e->gfn);
	fold_u64(f, e->spte);
	fold_u64(f, e->table_pa);
	fold_u64(f, (uint64_t)(int64_t)e->index);
	f->n++;
	return 0;
}

struct side {
	struct session s;
	struct target_opts to;
	struct fold walk;
	uint64_t tables;
	struct dump_ra_stats opened, loaded, walked;
	char *summary;
	int bits;
};

static struct err *side_run(struct side *x, const char *path, unsigned jobs)
{
	memset(x, 0, sizeof(*x));
	x->s.sel.vm_pid = -1;
	x->s.sel.range.gfn_hi = UINT64_MAX;
	check_opts_default(&x->s.copts);
	x->to.jobs = jobs;
	x->s.topts = &x->to;
	x->walk.h = UINT64_C(0xcbf29ce484222325);
	struct err *e = target_open(path, &x->to, &x->s.T);
	if (e)
		return e;
	x->opened = dump_readahead_stats(x->s.T->dump);
	if ((e = kvm_host_load(x->s.T, &x->s.H)))
		return e;
	x->loaded = dump_readahead_stats(x->s.T->dump);
	struct walker *w = NULL;
	if ((e = walker_new(x->s.T, &w)))
		return e;
	for (size_t i = 0; i < x->s.H.nvms; i++)
		for (size_t k = 0; k < x->s.H.vms[i].nroots; k++) {
			struct walk_stats ws = { 0 };
			err_free(walker_run(w, &x->s.H.masks, &x->s.H.vms[i].roots[k], NULL, fold_entry,
					    &x->walk, &ws));
			x->tables += ws.tables;
		}
	walker_free(w);
	x->walked = dump_readahead_stats(x->s.T->dump);
	size_t len = 0;
	x->s.out = open_memstream(&x->summary, &len);
	if (!x->s.out)
		abort();
	x->s.json = true;
	char *argv[] = { "summary" };
	e = cmd_summary(&x->s, 1, argv);
	if (e) {
		fprintf(x->s.out, "error: %s\n", e->msg);
		err_free(e);
	}
	fclose(x->s.out);
	x->s.out = stdout;
	x->bits = x->s.exit_bits;
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: test-readahead DUMP\n");
		return 2;
	}
	setenv("SPTE_INSPECT_TEST_READAHEAD", "strict", 1);
	static struct side one, four;
	struct err *e = side_run(&one, argv[1], 1);
	if (!e)
		e = side_run(&four, argv[1], 4);
	if (e) {
		printf("Bail out! %s\n", e->msg);
		return 1;
	}
	printf("# %" PRIu64 " walk entries, %" PRIu64 " tables; opening: %" PRIu64 " pages announced, %"
	       PRIu64 " read by workers; walk: %" PRIu64 " announced, %" PRIu64 " read by workers\n",
	       one.walk.n, one.tables, four.opened.hinted, four.opened.taken,
	       four.walked.hinted - four.loaded.hinted, four.walked.taken - four.loaded.taken);
	CHECK("one thread: no read-ahead", !dump_prefetching(one.s.T->dump) && one.walked.hinted == 0);
	CHECK("four threads: read-ahead on", dump_prefetching(four.s.T->dump));
	CHECK("the same walk entries", one.walk.n == four.walk.n && one.walk.h == four.walk.h &&
	      one.walk.n > 0);
	CHECK("the same tables walked", one.tables == four.tables);
	CHECK("the same summary bytes", !strcmp(one.summary, four.summary));
	CHECK("the same exit bits", one.bits == four.bits);
	/* BTF and kallsyms are runs of pages: announced and read by workers */
	CHECK("opening: pages read by workers", four.opened.taken > 0);
	/* a TDP root's 4K leaves sit in tables whose parents announce them */
	uint64_t walk_taken = four.walked.taken - four.loaded.taken;
	CHECK("walk: tables read by workers", walk_taken > 0 && walk_taken <= four.tables);
	CHECK("strict: the caller read nothing announced, nothing failed",
	      four.walked.missed == 0 && four.walked.helped == 0 && four.walked.failed == 0);
	free(one.summary);
	free(four.summary);
	return tap_done();
}
