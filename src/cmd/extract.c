/* `extract OUT`: a KVM-only kdump-compressed dump.
 *
 * Every physical page spte-inspect reads is recorded (dump_set_observer)
 * while the dump is opened again and every command's analysis runs on it
 * (output discarded): opening (VMCOREINFO, kallsyms, BTF, module list), the
 * KVM objects, every table of every root, dirty bitmaps, rings and PML pages,
 * the VMM page tables the host checks walk, the code of the KVM modules and of
 * the functions offset recovery reads, the code at each CPU's saved RIP.  The
 * kernel page tables that translate each virtual page read are added by
 * walking them (libaddrxlat reads them below our read path).  Then every frame
 * an SPTE leaf maps is taken out again (guest memory), unless --with-gfn asks
 * for it, and the rest is written with dump/kdump_write.c.  What the extract
 * is and where it came from is written into its VMCOREINFO as
 * SPTE_INSPECT_EXTRACT* lines (see the man page). */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cmd/extract.h"
#include "cmd/session.h"
#include "dump/kdump_write.h"
#include "symtab/recover.h"

#ifndef SPTE_INSPECT_VERSION
#define SPTE_INSPECT_VERSION "unknown"
#endif

#define EXTRACT_MAX_PFN (1ull << 36)	/* 256 TiB of host memory */
#define EXTRACT_MAX_NOTES 64
#define START_KERNEL_MAP 0xffffffff80000000ull

struct pfnset {
	uint8_t *bits;
	uint64_t nbytes;
	bool nomem;
};

static void pfnset_add(struct pfnset *s, uint64_t pfn)
{
	if (pfn >= EXTRACT_MAX_PFN)
		return;
	if (pfn / 8 >= s->nbytes) {
		uint64_t n = s->nbytes ? s->nbytes : 4096;
		while (n <= pfn / 8)
			n *= 2;
		uint8_t *b = realloc(s->bits, n);
		if (!b) {
			s->nomem = true;
			return;
		}
		memset(b + s->nbytes, 0, n - s->nbytes);
		s->bits = b;
		s->nbytes = n;
	}
	s->bits[pfn / 8] |= (uint8_t)(1u << (pfn % 8));
}

static bool pfnset_has(const struct pfnset *s, uint64_t pfn)
{
	return pfn / 8 < s->nbytes && (s->bits[pfn / 8] >> (pfn % 8) & 1);
}

/* Virtual pages translated: a growing open-addressing set. */
struct vpset {
	uint64_t *v;	/* vpage + 1; 0 empty */
	size_t cap, n;
	bool nomem;
};

static void vpset_add(struct vpset *s, uint64_t vpage)
{
	if (s->n * 2 >= s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 4096;
		uint64_t *nv = calloc(ncap, sizeof(*nv));
		if (!nv) {
			s->nomem = true;
			return;
		}
		for (size_t i = 0; i < s->cap; i++)
			if (s->v[i]) {
				size_t k = (size_t)(s->v[i] * 0x9e3779b97f4a7c15ull) & (ncap - 1);
				while (nv[k])
					k = (k + 1) & (ncap - 1);
				nv[k] = s->v[i];
			}
		free(s->v);
		s->v = nv;
		s->cap = ncap;
	}
	uint64_t key = vpage + 1;
	size_t k = (size_t)(key * 0x9e3779b97f4a7c15ull) & (s->cap - 1);
	while (s->v[k] && s->v[k] != key)
		k = (k + 1) & (s->cap - 1);
	if (!s->v[k]) {
		s->v[k] = key;
		s->n++;
	}
}

/* On a live host a page is copied when the analysis reads it, not when the
 * extract is written: the extract then holds what the analysis saw.  Each
 * page read: its first whole copy, every byte the analysis read patched in
 * as it read it (the last read of a re-read is the one that held still). */
#define EXTRACT_MAX_COPIES (1u << 18)	/* 1 GiB of copied pages */

struct copy {
	uint64_t pfn;
	bool whole;	/* the page as a whole was read; else only patched bytes */
	uint8_t *page;
};

struct copies {
	struct copy *c;		/* open addressing, pfn + 1 in .pfn; 0 empty */
	size_t cap, n;
	bool full, nomem;
};

static struct copy *copies_find(const struct copies *s, uint64_t pfn)
{
	if (!s->cap)
		return NULL;
	size_t k = (size_t)((pfn + 1) * 0x9e3779b97f4a7c15ull) & (s->cap - 1);
	while (s->c[k].pfn && s->c[k].pfn != pfn + 1)
		k = (k + 1) & (s->cap - 1);
	return s->c[k].pfn ? &s->c[k] : NULL;
}

/* A new slot for PFN (not yet in S), or NULL (full, or out of memory). */
static struct copy *copies_add(struct copies *s, uint64_t pfn)
{
	if (s->n >= EXTRACT_MAX_COPIES) {
		s->full = true;
		return NULL;
	}
	if (s->n * 2 >= s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 1024;
		struct copy *nc = calloc(ncap, sizeof(*nc));
		if (!nc) {
			s->nomem = true;
			return NULL;
		}
		for (size_t i = 0; i < s->cap; i++)
			if (s->c[i].pfn) {
				size_t k = (size_t)(s->c[i].pfn * 0x9e3779b97f4a7c15ull) & (ncap - 1);
				while (nc[k].pfn)
					k = (k + 1) & (ncap - 1);
				nc[k] = s->c[i];
			}
		free(s->c);
		s->c = nc;
		s->cap = ncap;
	}
	uint8_t *page = malloc(PAGE_SIZE);
	if (!page) {
		s->nomem = true;
		return NULL;
	}
	size_t k = (size_t)((pfn + 1) * 0x9e3779b97f4a7c15ull) & (s->cap - 1);
	while (s->c[k].pfn)
		k = (k + 1) & (s->cap - 1);
	s->c[k] = (struct copy){ pfn + 1, false, page };
	s->n++;
	return &s->c[k];
}

static void copies_free(struct copies *s)
{
	for (size_t i = 0; i < s->cap; i++)
		free(s->c[i].page);
	free(s->c);
}

struct extract {
	struct pfnset read, guest, wanted;
	struct vpset vpages;
	bool observing;
	bool copy;	/* live: pages copied as they are read */
	struct copies copies;
};

static void extract_observe(void *arg, struct dump *d, bool virt, uint64_t addr, const void *buf, size_t len)
{
	struct extract *x = arg;
	if (!x->observing)
		return;
	if (virt) {
		vpset_add(&x->vpages, addr >> PAGE_SHIFT);
		return;
	}
	if (!len)
		return;
	for (uint64_t p = addr >> PAGE_SHIFT; p <= (addr + len - 1) >> PAGE_SHIFT; p++) {
		pfnset_add(&x->read, p);
		if (!x->copy || !buf)
			continue;
		struct copy *c = copies_find(&x->copies, p);
		if (!c && (c = copies_add(&x->copies, p))) {
			/* the rest of the page, now: not observed again */
			x->observing = false;
			struct err *e = dump_read_phys(d, p << PAGE_SHIFT, c->page, PAGE_SIZE);
			x->observing = true;
			c->whole = !e;
			err_free(e);
		}
		if (!c)
			continue;
		uint64_t lo = p << PAGE_SHIFT > addr ? p << PAGE_SHIFT : addr;
		uint64_t hi = (p + 1) << PAGE_SHIFT < addr + len ? (p + 1) << PAGE_SHIFT : addr + len;
		memcpy(c->page + (lo & (PAGE_SIZE - 1)), (const uint8_t *)buf + (lo - addr), (size_t)(hi - lo));
	}
}

/* The kernel's own page tables for VA, read through dump_read_phys (and so
 * recorded): what libaddrxlat reads to translate it. */
static void extract_kernel_walk(struct target *T, uint64_t pgd, int levels, uint64_t va)
{
	uint64_t table = pgd;
	for (int lvl = levels; lvl >= 1; lvl--) {
		uint64_t ent;
		unsigned idx = (unsigned)(va >> (PAGE_SHIFT + 9 * (lvl - 1))) & 511;
		struct err *e = dump_read_phys(T->dump, table + idx * 8, &ent, sizeof(ent));
		if (e) {
			err_free(e);
			return;
		}
		if (!(ent & 1) || (lvl > 1 && lvl <= 3 && (ent & 0x80)))
			return;
		table = ent & T->physical_mask & ~0xfffull;
	}
}

/* Read [addr, addr+len) of kernel code as dis and recovery do (recorded). */
static void extract_read_code(struct target *T, uint64_t addr, uint64_t len)
{
	uint8_t buf[PAGE_SIZE];
	while (len) { /* page by page: a missing page does not hide the next */
		size_t n = PAGE_SIZE - (size_t)(addr & (PAGE_SIZE - 1));
		if (n > len)
			n = (size_t)len;
		(void)dump_peek(T->dump, addr, buf, n);
		addr += n;
		len -= n;
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

struct code_ctx {
	struct target *T;
	uint64_t *all;	/* every symbol address, sorted */
	size_t nall;
};

/* dis reads from a symbol to the next symbol of any table (at most 64 KiB,
 * else 256 bytes): the same extent here. */
static uint64_t code_extent(const struct code_ctx *c, uint64_t addr)
{
	size_t lo = 0, hi = c->nall;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (c->all[mid] <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	uint64_t next = lo < c->nall ? c->all[lo] : UINT64_MAX;
	return next == UINT64_MAX || next - addr > 65536 ? 256 : next - addr;
}

static void code_fn(void *arg, const char *module, const char *name)
{
	struct code_ctx *c = arg;
	static const char *const sfx[] = { "", ".part.0", ".constprop.0", ".isra.0" };
	for (size_t k = 0; k < sizeof(sfx) / sizeof(sfx[0]); k++) {
		char full[160];
		uint64_t addr;
		snprintf(full, sizeof(full), "%s%s", name, sfx[k]);
		if (target_symbol(c->T, module, full, &addr))
			extract_read_code(c->T, addr, 32768 > code_extent(c, addr) ? 32768 : code_extent(c, addr));
	}
}

static void extract_code(struct target *T)
{
	struct code_ctx c = { T, NULL, 0 };
	size_t n = T->vmlinux_syms.n;
	for (size_t i = 0; i < T->nmods; i++)
		n += T->mods[i].syms.n;
	c.all = malloc((n ? n : 1) * sizeof(*c.all));
	if (!c.all)
		return;
	for (size_t i = 0; i < T->vmlinux_syms.n; i++)
		c.all[c.nall++] = T->vmlinux_syms.addr[i];
	for (size_t m = 0; m < T->nmods; m++)
		for (size_t i = 0; i < T->mods[m].syms.n; i++)
			c.all[c.nall++] = T->mods[m].syms.addr[i];
	qsort(c.all, c.nall, sizeof(*c.all), cmp_u64);
	/* every function of the KVM modules, as `dis` reads it */
	for (size_t m = 0; m < T->nmods; m++) {
		const struct symtab *t = &T->mods[m].syms;
		if (strncmp(t->name, "kvm", 3))
			continue;
		for (size_t i = 0; i < t->n; i++)
			if (t->type[i] == 't' || t->type[i] == 'T')
				extract_read_code(T, t->addr[i], code_extent(&c, t->addr[i]));
	}
	/* what offset recovery disassembles (bounded as recover/ bounds it) */
	recover_each_function(code_fn, &c);
	free(c.all);
}

/* Leaves' frames are guest memory: out, unless --with-gfn asked for them. */
struct leaf_ctx {
	struct extract *x;
	const struct session *s;
	const struct kvm_vm *vm;
	uint64_t guest_pages, wanted_pages;
};

static int leaf_entry(void *arg, const struct walk_entry *e)
{
	struct leaf_ctx *c = arg;
	if (e->event != WALK_ENTRY || e->kind != SPTE_PRESENT || !walk_bits(e)->leaf)
		return 0;
	uint64_t n = walk_level_pages(e->level);
	for (uint64_t i = 0; i < n; i++) {
		pfnset_add(&c->x->guest, walk_bits(e)->pfn + i);
		uint64_t g = e->gfn + i;
		if (c->s->with_gfn && select_vm(&c->s->sel, c->vm) && g >= c->s->with_gfn_range.gfn_lo &&
		    g <= c->s->with_gfn_range.gfn_hi) {
			pfnset_add(&c->x->wanted, walk_bits(e)->pfn + i);
			c->wanted_pages++;
		}
	}
	c->guest_pages += n;
	return 0;
}

/* Every command's analysis on SUB, its output thrown away. */
static void extract_run_commands(struct session *sub)
{
	static const struct { cmd_fn fn; const char *name; } cmds[] = {
		{ cmd_info, "info" }, { cmd_vms, "vms" }, { cmd_memslots, "memslots" },
		{ cmd_roots, "roots" }, { cmd_sptes, "sptes" }, { cmd_check, "check" },
		{ cmd_summary, "summary" }, { cmd_pids, "__pids" },
	};
	for (int json = 0; json < 2; json++) {
		sub->json = json;
		for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
			char *argv[] = { (char *)cmds[i].name, NULL };
			err_free(cmds[i].fn(sub, 1, argv));
		}
	}
	sub->json = false;
	for (unsigned cpu = 0; cpu < 8192; cpu++) {
		uint64_t rip;
		struct err *e = dump_cpu_reg(sub->T->dump, cpu, "rip", &rip);
		if (e) {
			err_free(e);
			break;
		}
		char spec[32];
		snprintf(spec, sizeof(spec), "cpu%u", cpu);
		char *argv[] = { "dis", spec, NULL };
		err_free(cmd_dis(sub, 2, argv));
	}
}

/* x86-64 NT_PRSTATUS notes from the registers the dump saved per CPU. */
static void *extract_prstatus(struct dump *d, uint32_t *ncpus, size_t *len)
{
	static const char *const regs[] = { "r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10",
					    "r9", "r8", "rax", "rcx", "rdx", "rsi", "rdi", "orig_rax",
					    "rip", "cs", "rflags", "rsp", "ss", "fs_base", "gs_base",
					    "ds", "es", "fs", "gs" };
	enum { DESC = 336, REG_OFF = 112, NOTE = 12 + 8 + DESC };
	uint8_t *buf = NULL;
	*ncpus = 0;
	*len = 0;
	for (unsigned cpu = 0; cpu < 8192; cpu++) {
		uint64_t v;
		struct err *e = dump_cpu_reg(d, cpu, "rip", &v);
		if (e) {
			err_free(e);
			break;
		}
		uint8_t *nb = realloc(buf, (size_t)(cpu + 1) * NOTE);
		if (!nb)
			break;
		buf = nb;
		uint8_t *n = buf + (size_t)cpu * NOTE;
		memset(n, 0, NOTE);
		uint32_t hdr[3] = { 5, DESC, 1 /* NT_PRSTATUS */ };
		memcpy(n, hdr, sizeof(hdr));
		memcpy(n + 12, "CORE", 5);
		for (size_t r = 0; r < sizeof(regs) / sizeof(regs[0]); r++) {
			uint64_t val = 0;
			struct err *re = dump_cpu_reg(d, cpu, regs[r], &val);
			if (re && !strcmp(regs[r], "rflags")) {
				err_free(re);
				re = dump_cpu_reg(d, cpu, "eflags", &val);
			}
			err_free(re);
			memcpy(n + 20 + REG_OFF + r * 8, &val, 8);
		}
		(*ncpus)++;
		*len += NOTE;
	}
	return buf;
}

struct page_ctx {
	struct dump *d;
	struct extract *x;
	struct notes *notes;
	uint64_t unreadable;
};

static struct err *extract_page(void *arg, uint64_t pfn, uint8_t *page)
{
	struct page_ctx *c = arg;
	struct err *e = NULL;
	const struct copy *cp = c->x->copy ? copies_find(&c->x->copies, pfn) : NULL;
	if (cp && cp->whole) {
		memcpy(page, cp->page, PAGE_SIZE);
		return NULL;
	}
	if (cp) {
		e = err_new(ERR_READ, "the page as a whole did not read when the analysis read part of it");
	} else {
		/* a dump reads once; a live page nobody read (--with-gfn frames)
		 * is read now and must hold still for two reads */
		e = dump_read_phys_stable(c->d, pfn << PAGE_SHIFT, page, PAGE_SIZE);
	}
	if (e) {
		c->unreadable++;
		if (c->unreadable <= 8)
			notes_add(c->notes, "extract: page 0x%" PRIx64 " left out: %s", pfn << PAGE_SHIFT, e->msg);
		err_free(e);
		return err_new(ERR_FILTERED, "left out");
	}
	return NULL;
}

static void append(char **buf, size_t *len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void append(char **buf, size_t *len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *piece = NULL;
	int n = vasprintf(&piece, fmt, ap);
	va_end(ap);
	if (n < 0 || !*buf)
		return;
	char *nb = realloc(*buf, *len + (size_t)n + 1);
	if (!nb) {
		free(piece);
		return;
	}
	memcpy(nb + *len, piece, (size_t)n + 1);
	*buf = nb;
	*len += (size_t)n;
	free(piece);
}

/* SOURCE_DATE_EPOCH (reproducible-builds.org): the time an extract records,
 * so that one dump cut twice gives the same bytes.  Unset or not a plain
 * count of seconds: now. */
static time_t extract_time(void)
{
	const char *s = getenv("SOURCE_DATE_EPOCH");
	if (!s || !*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 18)
		return time(NULL);
	return (time_t)strtoll(s, NULL, 10);
}

/* The source's VMCOREINFO without an earlier extract's record, plus ours. */
/* WHEN: the time it records. */
static char *extract_vmcoreinfo(struct session *s, struct dump *d, uint64_t pages, const struct notes *inc,
				time_t when)
{
	const char *raw = dump_vmcoreinfo_raw(d);
	size_t len = 0;
	char *out = calloc(1, 1);
	for (const char *line = raw ? raw : ""; *line;) {
		const char *nl = strchr(line, '\n');
		size_t l = nl ? (size_t)(nl - line) : strlen(line);
		if (l && strncmp(line, "SPTE_INSPECT_EXTRACT", 20))
			append(&out, &len, "%.*s\n", (int)l, line);
		line += l + (nl ? 1 : 0);
	}
	char date[32];
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", gmtime(&when));
	struct stat st;
	append(&out, &len, "SPTE_INSPECT_EXTRACT=1\nSPTE_INSPECT_EXTRACT_FROM=%s\n"
	       "SPTE_INSPECT_EXTRACT_FROM_FORMAT=%s%s\nSPTE_INSPECT_EXTRACT_FROM_SIZE=%llu\n"
	       "SPTE_INSPECT_EXTRACT_DATE=%s\nSPTE_INSPECT_EXTRACT_BY=spte-inspect %s\n"
	       "SPTE_INSPECT_EXTRACT_PAGES=%" PRIu64 "\n", dump_path(d),
	       dump_is_live(d) ? "live " : "", dump_format(d),
	       !dump_is_live(d) && !stat(dump_path(d), &st) ? (unsigned long long)st.st_size : 0ull, date,
	       SPTE_INSPECT_VERSION, pages);
	if (s->with_gfn)
		append(&out, &len, "SPTE_INSPECT_EXTRACT_WITH_GFN=0x%" PRIx64 "-0x%" PRIx64 "%s\n",
		       s->with_gfn_range.gfn_lo, s->with_gfn_range.gfn_hi, s->sel.vm_pid >= 0 ? " (one VM)" : "");
	size_t ninc = inc->n < EXTRACT_MAX_NOTES ? inc->n : EXTRACT_MAX_NOTES;
	append(&out, &len, "SPTE_INSPECT_EXTRACT_INCOMPLETE=%zu\n", inc->n + inc->dropped);
	for (size_t i = 0; i < ninc; i++) {
		char msg[512];
		snprintf(msg, sizeof(msg), "%s", inc->msg[i]);
		for (char *p = msg; *p; p++)
			if (*p == '\n' || *p == '=')
				*p = ' ';
		append(&out, &len, "SPTE_INSPECT_EXTRACT_INCOMPLETE(%zu)=%s\n", i, msg);
	}
	return out;
}

/* What the source lacked or what would not hold still is recorded, so that
 * every command on the extract says it was cut from an incomplete source.
 * A note about the type information is not: the extract keeps the type
 * information as it was, so each command that needs it says so itself
 * (recorded, it would also be reported by commands that never looked). */
static void copy_notes(struct notes *to, const struct notes *from)
{
	for (size_t i = 0; i < from->n; i++)
		if (!strstr(from->msg[i], "in the type info"))
			notes_add(to, "%s", from->msg[i]);
}

struct err *cmd_extract(struct session *s, int argc, char **argv)
{
	if (argc != 2)
		return err_new(ERR_USAGE, "extract: expected OUT (the file to write)");
	return extract_write(s, argv[1], NULL);
}

struct err *extract_write(struct session *s, const char *out, const struct extract_as_live *as_live)
{
	struct stat so, sd;
	if (!stat(out, &so) && !stat(dump_path(s->T->dump), &sd) && so.st_dev == sd.st_dev &&
	    so.st_ino == sd.st_ino)
		return err_new(ERR_USAGE, "extract: %s is the dump itself", out);

	struct extract x = { 0 };
	x.observing = true;
	x.copy = dump_is_live(s->T->dump) || as_live;
	dump_set_observer(extract_observe, &x);
	struct target *T = NULL;
	struct session sub;
	memset(&sub, 0, sizeof(sub));
	/* what opening reads from memory must be in the extract: on a live
	 * host too, symbols and types come from the kernel's memory */
	struct target_opts to = *s->topts;
	to.from_memory = true;
	struct err *e = target_open(dump_path(s->T->dump), &to, &T);
	if (!e) /* what extract_code and the next run's searches need */
		e = target_complete(T);
	if (!e && as_live) /* a test: from here on the dump re-reads as a live host */
		dump_test_live(T->dump, as_live->hook, as_live->arg);
	if (!e)
		e = kvm_host_load(T, &sub.H);
	FILE *devnull = NULL;
	if (!e && !(devnull = fopen("/dev/null", "w")))
		e = err_new(ERR_OS, "/dev/null: cannot open");
	struct leaf_ctx lc = { &x, s, NULL, 0, 0 };
	struct notes inc = { 0 };
	if (!e) {
		sub.T = T;
		sub.sel.vm_pid = -1;
		sub.sel.range.gfn_hi = UINT64_MAX;
		check_opts_default(&sub.copts);
		sub.out = devnull;
		sub.quiet = true; /* what is incomplete is said once, by extract */
		extract_run_commands(&sub);
		extract_code(T);
		/* leaves: their frames are the guest's memory */
		struct walker *w;
		if (!(e = walker_new(T, &w))) {
			struct walk_range all = { 0, UINT64_MAX };
			for (size_t i = 0; i < sub.H.nvms; i++) {
				lc.vm = &sub.H.vms[i];
				for (size_t k = 0; k < lc.vm->nroots; k++) {
					struct walk_stats st = { 0 };
					err_free(walker_run(w, &sub.H.masks, &lc.vm->roots[k], &all, leaf_entry, &lc, &st));
				}
			}
			walker_free(w);
		}
	}
	if (!e) {
		/* the kernel page tables under every virtual page read */
		const char *l5 = dump_vmcoreinfo(T->dump, "NUMBER(pgtable_l5_enabled)");
		const char *pb = dump_vmcoreinfo(T->dump, "NUMBER(phys_base)");
		uint64_t top = dump_vmcoreinfo_symbol(T->dump, "init_top_pgt");
		if (!top || !pb) {
			notes_add(&inc, "extract: no SYMBOL(init_top_pgt)/NUMBER(phys_base) in VMCOREINFO: "
				  "kernel page tables not walked");
		} else {
			uint64_t pgd = top - START_KERNEL_MAP + (uint64_t)strtoll(pb, NULL, 0);
			int levels = l5 && atoi(l5) == 1 ? 5 : 4;
			for (size_t i = 0; i < x.vpages.cap; i++)
				if (x.vpages.v[i])
					extract_kernel_walk(T, pgd, levels, (x.vpages.v[i] - 1) << PAGE_SHIFT);
			/* and the direct map's, 2 MiB apart: any page of the host
			 * stays addressable, so a page left out reads as "not in
			 * this extract" rather than as an untranslatable address */
			uint64_t top_pfn = dump_max_pfn(T->dump);
			for (uint64_t p = 0; T->page_offset_base && p < top_pfn && p < EXTRACT_MAX_PFN; p += 512)
				extract_kernel_walk(T, pgd, levels, T->page_offset_base + (p << PAGE_SHIFT));
		}
	}
	x.observing = false;
	dump_set_observer(NULL, NULL);
	if (!e && (x.read.nomem || x.guest.nomem || x.wanted.nomem || x.vpages.nomem || x.copies.nomem))
		e = err_new(ERR_NOMEM, "extract: out of memory recording pages");
	if (!e && x.copies.full)
		e = err_new(ERR_CORRUPT, "extract: the analysis read more than %u pages of the live host "
			    "(not a KVM-only extract)", EXTRACT_MAX_COPIES);

	uint64_t max_pfn = T ? dump_max_pfn(T->dump) : 0;
	uint8_t *bitmap = NULL;
	uint64_t npages = 0, nguest_read = 0, nread = 0;
	if (!e) {
		if (!max_pfn) /* the dump does not say: the highest page read */
			max_pfn = x.read.nbytes * 8;
		if (max_pfn > EXTRACT_MAX_PFN)
			max_pfn = EXTRACT_MAX_PFN;
		if (!(bitmap = calloc(1, (size_t)((max_pfn + 7) / 8))))
			e = err_new(ERR_NOMEM, "out of memory");
	}
	if (!e) {
		for (uint64_t p = 0; p < max_pfn; p++) {
			bool want = pfnset_has(&x.wanted, p);
			bool rd = pfnset_has(&x.read, p);
			nread += rd;
			if (rd && pfnset_has(&x.guest, p) && !want) {
				nguest_read++;
				continue;
			}
			if (rd || want) {
				bitmap[p / 8] |= (uint8_t)(1u << (p % 8));
				npages++;
			}
		}
		/* what the analysis could not read (a live host that would not
		 * hold still, filtered pages of the source) stays incomplete */
		copy_notes(&inc, &sub.H.notes);
		copy_notes(&inc, &sub.walk_notes);
	}
	struct kdump_write_stats ws = { 0 };
	struct page_ctx pc = { T ? T->dump : NULL, &x, &inc, 0 };
	struct kdump_writer *kw = NULL;
	if (!e)
		e = kdump_write_begin(out, max_pfn, npages, &kw);
	if (!e) {
		/* the pages first: what could not be written is recorded in the
		 * VMCOREINFO written after them */
		uint8_t page[PAGE_SIZE];
		for (uint64_t p = 0; p < max_pfn && !e; p++) {
			if (!(bitmap[p / 8] >> (p % 8) & 1))
				continue;
			struct err *pe = extract_page(&pc, p, page);
			if (pe) {
				err_free(pe);
				continue;
			}
			e = kdump_write_page(kw, p, page);
		}
		if (e) {
			kdump_write_abort(kw);
			kw = NULL;
		}
	}
	if (!e) {
		uint32_t ncpus;
		size_t nlen;
		void *notes = extract_prstatus(T->dump, &ncpus, &nlen);
		/* one time in the header and the record */
		time_t when = extract_time();
		char *vi = extract_vmcoreinfo(s, T->dump, npages - pc.unreadable, &inc, when);
		const char *pb = dump_vmcoreinfo(T->dump, "NUMBER(phys_base)");
		struct kdump_write_info info = {
			.release = T->release, .max_pfn = max_pfn,
			.phys_base = pb ? (uint64_t)strtoll(pb, NULL, 0) : 0, .nr_cpus = ncpus,
			.vmcoreinfo = vi, .notes = notes, .notes_len = nlen, .time = (int64_t)when,
		};
		if (vi) {
			e = kdump_write_finish(kw, &info, &ws);
		} else {
			kdump_write_abort(kw);
			e = err_new(ERR_NOMEM, "out of memory");
		}
		kw = NULL;
		free(vi);
		free(notes);
	}
	if (!e) {
		struct stat ss;
		uint64_t src = !dump_is_live(T->dump) && !stat(dump_path(T->dump), &ss) ? (uint64_t)ss.st_size : 0;
		if (s->json) {
			out_open(s, "extract", NULL, NULL);
			json_kstr(&s->j, "output", out);
			json_ku64(&s->j, "pages", ws.pages);
			json_ku64(&s->j, "bytes", ws.bytes);
			json_ku64(&s->j, "source_bytes", src);
			json_ku64(&s->j, "pages_read", nread);
			json_ku64(&s->j, "guest_pages_left_out", nguest_read);
			json_ku64(&s->j, "guest_pages_mapped", lc.guest_pages);
			json_ku64(&s->j, "with_gfn_pages", lc.wanted_pages);
			json_ku64(&s->j, "pages_unreadable", pc.unreadable);
			json_key(&s->j, "extract_incomplete");
			json_arr_begin(&s->j);
			for (size_t i = 0; i < inc.n; i++)
				json_sentence(&s->j, inc.msg[i]);
			json_arr_end(&s->j);
			out_close(s);
		} else {
			fprintf(s->out, "extract: %s: %" PRIu64 " pages, %" PRIu64 " bytes", out, ws.pages, ws.bytes);
			if (src)
				fprintf(s->out, " (%.1f%% of %s, %" PRIu64 " bytes)", 100.0 * (double)ws.bytes / (double)src,
					dump_path(T->dump), src);
			fprintf(s->out, "\n  %" PRIu64 " guest frames mapped by SPTE leaves, %" PRIu64
				" of them read and left out, %" PRIu64 " kept by --with-gfn\n", lc.guest_pages,
				nguest_read, lc.wanted_pages);
			if (inc.n) {
				fprintf(s->out, "  recorded as incomplete in the extract:\n");
				for (size_t i = 0; i < inc.n; i++)
					fprintf(s->out, "    %s\n", inc.msg[i]);
			}
		}
		if (inc.n)
			s->exit_bits |= EXIT_INCOMPLETE;
	}
	if (devnull)
		fclose(devnull);
	notes_fini(&inc);
	notes_fini(&sub.walk_notes);
	kvm_host_fini(&sub.H);
	target_close(T);
	free(bitmap);
	free(x.read.bits);
	free(x.guest.bits);
	free(x.wanted.bits);
	free(x.vpages.v);
	copies_free(&x.copies);
	return e;
}

/* `info` and every command on an extract: its record, from VMCOREINFO. */
void extract_info(struct session *s)
{
	struct dump *d = s->T->dump;
	if (!dump_vmcoreinfo(d, "SPTE_INSPECT_EXTRACT"))
		return;
	const char *k[] = { "FROM", "FROM_FORMAT", "FROM_SIZE", "DATE", "BY", "PAGES", "WITH_GFN",
			    "INCOMPLETE" };
	const char *v[8];
	for (int i = 0; i < 8; i++) {
		char key[64];
		snprintf(key, sizeof(key), "SPTE_INSPECT_EXTRACT_%s", k[i]);
		v[i] = dump_vmcoreinfo(d, key);
	}
	if (s->json) {
		json_key(&s->j, "extract");
		json_obj_begin(&s->j);
		json_kstr(&s->j, "from", v[0]);
		json_kstr(&s->j, "from_format", v[1]);
		json_ku64(&s->j, "from_size", v[2] ? strtoull(v[2], NULL, 10) : 0);
		json_kstr(&s->j, "date", v[3]);
		json_kstr(&s->j, "by", v[4]);
		json_ku64(&s->j, "pages", v[5] ? strtoull(v[5], NULL, 10) : 0);
		json_kstr(&s->j, "with_gfn", v[6]);
		json_ku64(&s->j, "incomplete", v[7] ? strtoull(v[7], NULL, 10) : 0);
		json_obj_end(&s->j);
		return;
	}
	fprintf(s->out, "extract:     KVM-only, cut from %s (%s, %s bytes) on %s by %s\n",
		v[0] ? v[0] : "?", v[1] ? v[1] : "?", v[2] ? v[2] : "?", v[3] ? v[3] : "?", v[4] ? v[4] : "?");
	fprintf(s->out, "extract:     %s pages kept; guest frames %s; %s part(s) recorded incomplete\n",
		v[5] ? v[5] : "?", v[6] ? v[6] : "left out", v[7] ? v[7] : "0");
}

/* What the extract recorded as incomplete is incomplete in every analysis of it. */
void extract_notes(struct target *T, struct notes *notes)
{
	for (unsigned i = 0; i < EXTRACT_MAX_NOTES; i++) {
		char key[64];
		snprintf(key, sizeof(key), "SPTE_INSPECT_EXTRACT_INCOMPLETE(%u)", i);
		const char *m = dump_vmcoreinfo(T->dump, key);
		if (!m)
			break;
		notes_add(notes, "recorded when extracted: %s", m);
	}
}
