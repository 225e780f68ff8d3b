/* The VMM-side reads `check` makes per leaf, on a real dump (argv[1]):
 * - host_lookup gfn after gfn (the 4K table of the last 2 MiB kept) gives
 *   what a walk from the pgd gives for each, every gfn of every memslot;
 * - host_leaf_table (what -J announces) names the table those walks read;
 * - dump_window_peek gives dump_peek's answer: the write-track counters
 *   read u16 by u16, and spans that cross a page.
 * TAP output. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dump/dump.h"
#include "kobj/books.h"
#include "kobj/host_load.h"
#include "mmu/host.h"
#include "symtab/target.h"
#include "tap.h"

/* gfns of one slot walked at most (the fixtures' slots are smaller) */
#define MAX_GFNS (1u << 20)

static bool same_map(const struct host_map *a, const struct host_map *b)
{
	return a->present == b->present && a->protnone == b->protnone &&
	       a->writable == b->writable && a->level == b->level && a->pfn == b->pfn &&
	       a->entry == b->entry && a->entry_pa == b->entry_pa;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: test-host DUMP\n");
		return 2;
	}
	struct target_opts o = { 0 };
	struct target *T;
	struct kvm_host H;
	struct err *e = target_open(argv[1], &o, &T);
	if (!e && (e = kvm_host_load(T, &H)))
		target_close(T);
	if (e) {
		printf("Bail out! %s\n", e->msg);
		return 1;
	}
	struct books_layout L;
	if ((e = books_layout_load(T, &H, &L, &H.notes))) {
		printf("Bail out! %s\n", e->msg);
		return 1;
	}
	static struct host_walker warm, cold;
	host_walker_init(&warm, T);
	host_walker_init(&cold, T);
	static struct dump_window win;
	uint64_t gfns = 0, differ = 0, mapped4k = 0, tables_ok = 0, tracked = 0, track_differ = 0;
	char first[256] = "";
	for (size_t v = 0; v < H.nvms; v++) {
		struct vm_books b;
		if ((e = books_load(T, &L, &H.vms[v], &b, &H.notes))) {
			printf("Bail out! VM %d: %s\n", H.vms[v].pid, e->msg);
			return 1;
		}
		for (size_t k = 0; k < H.vms[v].nslots && !b.mm_gone; k++) {
			const struct kvm_memslot *s = &b.slots[k]; /* books_arch: its copy */
			uint64_t n = s->npages < MAX_GFNS ? s->npages : MAX_GFNS;
			for (uint64_t i = 0; i < n; i++, gfns++) {
				uint64_t hva = s->userspace_addr + i * PAGE_SIZE;
				struct host_map a, c;
				struct err *ea = host_lookup(&warm, b.pgd_pa, hva, &a);
				host_walker_reset(&cold);
				struct err *ec = host_lookup(&cold, b.pgd_pa, hva, &c);
				if ((ea != NULL) != (ec != NULL) || (!ea && !same_map(&a, &c))) {
					if (!differ++)
						snprintf(first, sizeof(first), "VM %d slot %d gfn 0x%" PRIx64
							 ": level %d/%d pfn 0x%" PRIx64 "/0x%" PRIx64,
							 H.vms[v].pid, s->id, s->base_gfn + i, a.level, c.level,
							 a.pfn, c.pfn);
				}
				uint64_t table;
				bool has = host_leaf_table(&cold, b.pgd_pa, hva, &table);
				if (!ec && c.level == 1) {
					mapped4k++;
					tables_ok += has && table == (c.entry_pa & ~(uint64_t)(PAGE_SIZE - 1));
				}
				err_free(ea);
				err_free(ec);
				uint16_t x = 0, y = 0;
				uint64_t at;
				bool fx = books_write_track(T, &b, s, s->base_gfn + i, &win, &x, &at);
				bool fy = fx && dump_peek(T->dump, at, &y, sizeof(y));
				tracked += fx;
				track_differ += fx && (!fy || x != y);
			}
		}
		books_fini(&b);
	}
	CHECK("the fixture has memslots to walk", gfns > 0);
	printf("# %" PRIu64 " gfns, %" PRIu64 " under 4K host tables, %" PRIu64
	       " write-track counters\n", gfns, mapped4k, tracked);
	CHECK("gfn after gfn, the kept 4K table answers as a walk from the pgd", differ == 0);
	if (differ)
		printf("# first: %s\n", first);
	CHECK("host_leaf_table names the 4K table of every such gfn", tables_ok == mapped4k);
	CHECK("the write-track counters through a window read as dump_peek reads them",
	      track_differ == 0);

	/* spans across a page boundary, and the window's page changing */
	static struct dump_window w2;
	uint64_t base = dump_vmcoreinfo_symbol(T->dump, "init_uts_ns");
	unsigned bad = 0, tried = 0;
	for (uint64_t off = 0; base && off < 3 * PAGE_SIZE; off += 509) {
		uint8_t a[64], c[64];
		for (size_t len = 1; len <= sizeof(a); len *= 4) {
			uint64_t va = (base & ~(uint64_t)(PAGE_SIZE - 1)) + PAGE_SIZE - len / 2 + off;
			bool fa = dump_window_peek(T->dump, &w2, va, a, len);
			bool fc = dump_peek(T->dump, va, c, len);
			tried++;
			bad += fa != fc || (fa && memcmp(a, c, len));
		}
	}
	CHECK("a window gives dump_peek's bytes, within a page and across one",
	      tried > 0 && bad == 0);
	kvm_host_fini(&H);
	target_close(T);
	return tap_done();
}
