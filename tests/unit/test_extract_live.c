/* `extract` from a live host, without root or a live host: the fixture
 * (argv[1]) is opened again as if live (dump_test_live), so pages are copied
 * when the analysis reads them and every read of the live rules applies.
 *  1. as live, nothing changing: the extract stores exactly the pages of the
 *     offline extract, byte for byte, and the commands (vms, memslots, roots,
 *     sptes, check; text and JSON) print the same on both;
 *  2. as live, a VM whose memslots generation changes on every read (a VMM
 *     in a memslot update loop): the extract is written, says it is
 *     incomplete (exit bit, and its VMCOREINFO records which VM for every
 *     later analysis), and the page holds a value the host had.
 * TAP output. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/extract.h"
#include "tap.h"

/* The generation of a VM's memslots (the first member of struct
 * kvm_memslots on every kernel) changes on every read of its page, as a
 * host in a memslot update loop: the VM never holds still. */
struct flip {
	uint64_t pa, gen;		/* the generation's physical address, its value */
	uint8_t page[PAGE_SIZE];	/* its page as the dump holds it */
	unsigned fired;
};

static void flip_fn(void *arg, struct dump *d, uint64_t pa, size_t len)
{
	struct flip *f = arg;
	uint64_t page = f->pa & ~(uint64_t)(PAGE_SIZE - 1);
	if (!(pa < page + PAGE_SIZE && page < pa + len))
		return;
	f->fired++;
	uint8_t copy[PAGE_SIZE];
	memcpy(copy, f->page, sizeof(copy));
	uint64_t v = f->gen + (f->fired & 1 ? 2 : 0);
	memcpy(copy + (f->pa - page), &v, 8);
	err_free(dump_overlay_page(d, page, copy));
}

static void session_init(struct session *s, struct target *T, const struct target_opts *to, FILE *out)
{
	memset(s, 0, sizeof(*s));
	s->T = T;
	s->topts = to;
	s->sel.vm_pid = -1;
	s->sel.range.gfn_hi = UINT64_MAX;
	check_opts_default(&s->copts);
	s->out = out;
}

/* Every command's output on the dump at PATH, text then JSON, in one string. */
static char *outputs(const char *path, const struct target_opts *to)
{
	static const struct { cmd_fn fn; const char *name; } cmds[] = {
		{ cmd_vms, "vms" }, { cmd_memslots, "memslots" }, { cmd_roots, "roots" },
		{ cmd_sptes, "sptes" }, { cmd_check, "check" },
	};
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct target *T;
	struct session s;
	struct err *e = target_open(path, to, &T);
	if (e) {
		fprintf(f, "open: %s\n", e->msg);
		err_free(e);
		fclose(f);
		return buf;
	}
	session_init(&s, T, to, f);
	if ((e = kvm_host_load(T, &s.H))) {
		fprintf(f, "load: %s\n", e->msg);
		err_free(e);
	} else {
		for (int json = 0; json < 2; json++) {
			s.json = json;
			for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
				char *argv[] = { (char *)cmds[i].name, NULL };
				fprintf(f, "== %s%s\n", json ? "-j " : "", cmds[i].name);
				if ((e = cmds[i].fn(&s, 1, argv))) {
					fprintf(f, "error: %s\n", e->msg);
					err_free(e);
				}
			}
		}
		kvm_host_fini(&s.H);
	}
	notes_fini(&s.walk_notes);
	target_close(T);
	fclose(f);
	return buf;
}

/* Pages stored in A and B: counts, and whether every pfn reads the same. */
static bool same_pages(const char *a, const char *b, uint64_t *na, uint64_t *nb)
{
	struct dump *da, *db;
	struct err *e = dump_open(a, &da);
	if (e) {
		printf("# %s\n", e->msg);
		err_free(e);
		return false;
	}
	if ((e = dump_open(b, &db))) {
		printf("# %s\n", e->msg);
		err_free(e);
		dump_close(da);
		return false;
	}
	bool same = dump_max_pfn(da) == dump_max_pfn(db);
	static uint8_t pa[PAGE_SIZE], pb[PAGE_SIZE];
	*na = *nb = 0;
	for (uint64_t p = 0; same && p < dump_max_pfn(da); p++) {
		struct err *ea = dump_read_phys(da, p << PAGE_SHIFT, pa, PAGE_SIZE);
		struct err *eb = dump_read_phys(db, p << PAGE_SHIFT, pb, PAGE_SIZE);
		*na += !ea;
		*nb += !eb;
		if (!ea != !eb || (!ea && memcmp(pa, pb, PAGE_SIZE))) {
			printf("# pfn 0x%" PRIx64 ": %s in the offline extract, %s as live\n", p,
			       ea ? "absent" : "stored", eb ? "absent" : !ea ? "different" : "stored");
			same = false;
		}
		err_free(ea);
		err_free(eb);
	}
	dump_close(da);
	dump_close(db);
	return same;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: test-extract-live DUMP\n");
		return 2;
	}
	char dir[] = "/tmp/test-extract-live.XXXXXX";
	if (!mkdtemp(dir)) {
		printf("Bail out! mkdtemp\n");
		return 1;
	}
	char off[256], live[256], same[256], flipped[256];
	snprintf(off, sizeof(off), "%s/offline.kdump", dir);
	snprintf(live, sizeof(live), "%s/live.kdump", dir);
	snprintf(same, sizeof(same), "%s/x.kdump", dir);
	snprintf(flipped, sizeof(flipped), "%s/flipped.kdump", dir);
	struct target_opts to = { 0 };
	struct target *T;
	struct err *e = target_open(argv[1], &to, &T);
	if (e) {
		printf("Bail out! %s\n", e->msg);
		return 1;
	}
	FILE *devnull = fopen("/dev/null", "w");
	struct session s;
	session_init(&s, T, &to, devnull);

	/* 1. as live, nothing changes */
	e = extract_write(&s, off, NULL);
	CHECK("offline extract written", !e && !(s.exit_bits & EXIT_INCOMPLETE));
	err_free(e);
	s.exit_bits = 0;
	struct extract_as_live still = { NULL, NULL };
	e = extract_write(&s, live, &still);
	if (e)
		printf("# %s\n", e->msg);
	CHECK("extract as live written, nothing incomplete", !e && !(s.exit_bits & EXIT_INCOMPLETE));
	err_free(e);
	uint64_t na = 0, nb = 0;
	bool sp = same_pages(off, live, &na, &nb);
	printf("# offline extract %" PRIu64 " pages, as live %" PRIu64 "\n", na, nb);
	CHECK("as live: the same pages, byte for byte", sp && na > 0);
	/* the commands, on each extract under one name (outputs name the dump) */
	char *a = NULL, *b = NULL;
	if (!rename(off, same))
		a = outputs(same, &to);
	if (!rename(live, same))
		b = outputs(same, &to);
	CHECK("as live: every command prints the same", a && b && !strcmp(a, b) && strstr(a, "== -j check"));
	if (a && b && strcmp(a, b))
		printf("# offline:\n# %.400s\n# as live:\n# %.400s\n", a, b);
	free(a);
	free(b);

	/* 2. as live, a VM that never holds still */
	struct kvm_host H;
	static struct flip f;
	int pid = 0;
	if (!(e = kvm_host_load(T, &H))) {
		for (size_t i = 0; i < H.nvms && !f.pa; i++) {
			const struct kvm_vm *vm = &H.vms[i];
			uint64_t gen = 0;
			if (vm->memslots_ptr[0] && !dump_vtop(T->dump, vm->memslots_ptr[0], &f.pa) &&
			    dump_peek(T->dump, vm->memslots_ptr[0], &gen, 8) && gen == vm->memslots_gen[0] &&
			    gen) {
				f.gen = gen;
				pid = vm->pid;
			} else {
				f.pa = 0;
			}
		}
		kvm_host_fini(&H);
	}
	err_free(e);
	CHECK("a VM with a memslot generation to change", f.pa &&
	      !(e = dump_read_phys(T->dump, f.pa & ~(uint64_t)(PAGE_SIZE - 1), f.page, sizeof(f.page))));
	if (f.pa) {
		err_free(e);
		printf("# VM %d: memslots generation %" PRIu64 " at 0x%" PRIx64 "\n", pid, f.gen, f.pa);
		struct extract_as_live moving = { flip_fn, &f };
		s.exit_bits = 0;
		e = extract_write(&s, flipped, &moving);
		if (e)
			printf("# %s\n", e->msg);
		CHECK("as live, a VM changing: written, incomplete", !e && f.fired > 1 &&
		      (s.exit_bits & EXIT_INCOMPLETE));
		err_free(e);
		struct dump *d;
		if (!(e = dump_open(flipped, &d))) {
			const char *n = dump_vmcoreinfo(d, "SPTE_INSPECT_EXTRACT_INCOMPLETE");
			const char *m = dump_vmcoreinfo(d, "SPTE_INSPECT_EXTRACT_INCOMPLETE(0)");
			printf("# recorded: %s: %s\n", n ? n : "-", m ? m : "-");
			char want[64];
			snprintf(want, sizeof(want), "VM %d ", pid);
			CHECK("the extract records the VM that did not hold still",
			      n && atoi(n) > 0 && m && strstr(m, want) && strstr(m, "changed"));
			/* the page as the analysis read it: one of the host's two values */
			uint64_t v = 0;
			err_free(dump_read_phys(d, f.pa, &v, 8));
			CHECK("the generation: a value the host had", v == f.gen || v == f.gen + 2);
			dump_close(d);
		} else {
			CHECK("the extract of the changing host opens", false);
			err_free(e);
		}
	}
	unlink(same);
	unlink(flipped);
	rmdir(dir);
	fclose(devnull);
	target_close(T);
	return tap_done();
}
