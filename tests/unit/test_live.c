/* The live-host re-read paths on a real, fixed dump (argv[1]): the dump is
 * flagged live and a read hook changes pages between two reads with overlays,
 * exactly where a running host would.  Cases, on a writable 4K leaf in a
 * dirty-logged slot whose gfn the bitmap records (found in the dump):
 *  1. control, static: a bitmap copy with the bit clear gives one D2;
 *  2. live: the bitmap bit is clear only in the first read (the copy the
 *     books took), set again after: the finding is re-judged away;
 *  3. live: the leaf's table changes between the walk's two reads (W
 *     cleared, as a dirty-log harvest does): the entry is re-read and the
 *     walk reports the new value;
 *  4. live: the bit really is clear, but the leaf changes on every read: D2
 *     is reported inconclusive, "changed while reading", never plainly.
 * TAP output. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check/check.h"
#include "kobj/host_load.h"
#include "mmu/walk.h"
#include "tap.h"

/* The plan is printed up front (it names the leaf under test). */
#define OK(cond, name) CHECK(name, cond)

struct cand {
	bool found;
	const struct kvm_vm *vm;
	const struct kvm_memslot *slot;
	uint64_t gfn, spte, table_pa, bitmap_word_va, bitmap_page_pa;
	int index, bit;
};

struct find_ctx {
	struct target *T;
	struct cand *c;
	const struct kvm_vm *vm;
};

static int find_leaf(void *arg, const struct walk_entry *e)
{
	struct find_ctx *f = arg;
	if (f->c->found || e->event != WALK_ENTRY || e->level != 1 || !walk_bits(e)->writable ||
	    e->root->invalid)
		return 0;
	const struct kvm_memslot *s = kvm_vm_slot_for(f->vm, e->root->smm, e->gfn);
	if (!s || !(s->flags & KVM_MEM_LOG_DIRTY_PAGES) || !s->dirty_bitmap)
		return 0;
	uint64_t rel = e->gfn - s->base_gfn, word, va = s->dirty_bitmap + rel / 64 * 8;
	if (!dump_peek(f->T->dump, va, &word, 8) || !(word >> (rel % 64) & 1))
		return 0;
	uint64_t pa;
	struct err *err = dump_vtop(f->T->dump, va, &pa);
	if (err) {
		err_free(err);
		return 0;
	}
	*f->c = (struct cand){ true, f->vm, s, e->gfn, e->spte, e->table_pa, va, pa & ~0xfffull,
			       e->index, (int)(rel % 64) };
	return 1;
}

/* What the hook does to the pages it watches. */
struct hook {
	enum { H_NONE, H_RESTORE_BITMAP, H_TEAR_TABLE, H_FLIP_LEAF } mode;
	const struct cand *c;
	int fired;
	uint8_t page[4096];	/* the table page as the dump holds it */
};

static bool hits(uint64_t pa, size_t len, uint64_t page)
{
	return pa < page + 4096 && page < pa + len;
}

static void hook_fn(void *arg, struct dump *d, uint64_t pa, size_t len)
{
	struct hook *h = arg;
	uint8_t copy[4096];
	uint64_t v;
	switch (h->mode) {
	case H_RESTORE_BITMAP: /* the books read the stale copy; memory is current again */
		if (!h->fired && hits(pa, len, h->c->bitmap_page_pa)) {
			h->fired++;
			dump_overlay_clear(d);
		}
		break;
	case H_TEAR_TABLE: /* a harvest write-protects the leaf after the walk's first read */
		if (!h->fired && len == 4096 && pa == h->c->table_pa) {
			h->fired++;
			memcpy(copy, h->page, sizeof(copy));
			v = h->c->spte & ~2ull;
			memcpy(copy + h->c->index * 8, &v, 8);
			err_free(dump_overlay_page(d, h->c->table_pa, copy));
		}
		break;
	case H_FLIP_LEAF: /* the leaf's Accessed bit changes on every read */
		if (hits(pa, len, h->c->table_pa)) {
			h->fired++;
			memcpy(copy, h->page, sizeof(copy));
			v = h->c->spte ^ (h->fired & 1 ? 0x20ull : 0);
			memcpy(copy + h->c->index * 8, &v, 8);
			err_free(dump_overlay_page(d, h->c->table_pa, copy));
		}
		break;
	default:
		break;
	}
}

struct got {
	const struct cand *c;
	int d2, d2_incon, plain_at_gfn;
	char evidence[512];
};

static void on_finding(void *arg, const struct finding *f)
{
	struct got *g = arg;
	if (!f->has_spte || f->gfn != g->c->gfn || f->vm != g->c->vm)
		return;
	if (!f->inconclusive)
		g->plain_at_gfn++;
	if (f->check->id == CHK_D2) {
		g->d2++;
		g->d2_incon += f->inconclusive;
		snprintf(g->evidence, sizeof(g->evidence), "%s", f->evidence);
	}
}

/* Overlay the bitmap page with the candidate's bit cleared. */
static void clear_bit(struct target *T, const struct cand *c)
{
	uint8_t page[4096];
	struct err *e = dump_read_phys(T->dump, c->bitmap_page_pa, page, sizeof(page));
	if (e) {
		printf("# bitmap page: %s\n", e->msg);
		err_free(e);
		return;
	}
	uint64_t off = c->bitmap_word_va & 0xfff, w;
	memcpy(&w, page + off, 8);
	w &= ~(1ull << c->bit);
	memcpy(page + off, &w, 8);
	err_free(dump_overlay_page(T->dump, c->bitmap_page_pa, page));
}

static struct got run_check(struct target *T, struct kvm_host *H, const struct cand *c)
{
	struct check_opts o;
	check_opts_default(&o);
	struct check_stats st = { 0 };
	struct got g = { .c = c };
	struct err *e = check_run(T, H, &o, on_finding, &g, &st);
	if (e) {
		printf("# check_run: %s\n", e->msg);
		err_free(e);
	}
	return g;
}

struct leaf_seen {
	const struct cand *c;
	uint64_t spte;
	int seen;
};

static int see_leaf(void *arg, const struct walk_entry *e)
{
	struct leaf_seen *s = arg;
	if (e->event == WALK_ENTRY && e->level == 1 && e->gfn == s->c->gfn) {
		s->spte = e->spte;
		s->seen++;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: test-live DUMP\n");
		return 2;
	}
	struct target_opts to = { 0 };
	struct target *T;
	struct kvm_host H;
	struct err *e = target_open(argv[1], &to, &T);
	if (!e)
		e = kvm_host_load(T, &H);
	if (e) {
		printf("Bail out! %s\n", e->msg);
		return 1;
	}
	struct cand c = { 0 };
	struct walker *w;
	if ((e = walker_new(T, &w))) {
		printf("Bail out! %s\n", e->msg);
		return 1;
	}
	for (size_t i = 0; i < H.nvms && !c.found; i++)
		for (size_t k = 0; k < H.vms[i].nroots && !c.found; k++) {
			struct find_ctx f = { T, &c, &H.vms[i] };
			struct walk_stats ws = { 0 };
			err_free(walker_run(w, &H.masks, &H.vms[i].roots[k], NULL, find_leaf, &f, &ws));
		}
	if (!c.found) {
		printf("1..0 # SKIP no writable leaf in a dirty-logged slot\n");
		walker_free(w);
		kvm_host_fini(&H);
		target_close(T);
		return 0;
	}
	printf("1..12\n# VM %d gfn 0x%" PRIx64 " spte 0x%" PRIx64 " table 0x%" PRIx64 "[%d], bitmap "
	       "word 0x%" PRIx64 " bit %d\n", c.vm->pid, c.gfn, c.spte, c.table_pa, c.index,
	       c.bitmap_word_va, c.bit);
	struct live_stats *ls = &T->live;
	static struct hook h;
	h.c = &c;
	if ((e = dump_read_phys(T->dump, c.table_pa, h.page, sizeof(h.page)))) {
		printf("Bail out! %s\n", e->msg);
		return 1;
	}

	/* 1. static control */
	clear_bit(T, &c);
	struct got g = run_check(T, &H, &c);
	OK(g.d2 == 1 && g.d2_incon == 0, "static: bit cleared in the bitmap gives one plain D2");
	dump_overlay_clear(T->dump);

	/* 2. live: only the books' copy is stale */
	dump_test_live(T->dump, hook_fn, &h);
	clear_bit(T, &c);
	h.mode = H_RESTORE_BITMAP;
	h.fired = 0;
	memset(ls, 0, sizeof(*ls));
	g = run_check(T, &H, &c);
	OK(h.fired == 1, "live: the books read the stale bitmap copy");
	OK(g.d2 == 0 && g.plain_at_gfn == 0, "live: stale bitmap copy re-judged, no finding");
	OK(ls->findings_rechecked >= 1 && ls->findings_reevaluated >= 1 && ls->findings_changed == 0,
	   "live: counted as re-checked and re-judged, not as changed");
	dump_overlay_clear(T->dump);

	/* 3. live: a torn table read */
	h.mode = H_TEAR_TABLE;
	h.fired = 0;
	memset(ls, 0, sizeof(*ls));
	struct leaf_seen s = { &c, 0, 0 };
	struct walk_stats ws = { 0 };
	const struct kvm_root *root = NULL;
	for (size_t k = 0; k < c.vm->nroots && !root; k++)
		if (!c.vm->roots[k].invalid && c.vm->roots[k].smm == c.slot->as_id)
			root = &c.vm->roots[k];
	err_free(walker_run(w, &H.masks, root, NULL, see_leaf, &s, &ws));
	OK(h.fired == 1, "live: the table changed after the walk's first read");
	OK(s.seen == 1 && s.spte == (c.spte & ~2ull), "live: the walk reports the entry as re-read");
	OK(ls->entries_reread == 1, "live: exactly one entry differed and was re-read");
	dump_overlay_clear(T->dump);

	/* 4. live: a real D2 on a leaf that never holds still */
	clear_bit(T, &c);
	h.mode = H_FLIP_LEAF;
	h.fired = 0;
	memset(ls, 0, sizeof(*ls));
	g = run_check(T, &H, &c);
	OK(h.fired > 2, "live: the leaf changed on every read");
	OK(g.d2 == 1 && g.d2_incon == 1, "live: D2 reported once, inconclusive");
	OK(g.plain_at_gfn == 0, "live: no plain finding on the unsettled leaf");
	OK(strstr(g.evidence, "changed while reading") != NULL, "live: the evidence says it changed");
	OK(ls->findings_changed >= 1, "live: counted as changed while reading");
	dump_overlay_clear(T->dump);
	h.mode = H_NONE;

	walker_free(w);
	kvm_host_fini(&H);
	target_close(T);
	return tap_failed != 0;
}
