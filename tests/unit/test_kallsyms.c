/* kallsyms on a real dump (argv[1]): the tables found by their own structure
 * in the kernel image must decode to exactly the table VMCOREINFO locates
 * (when it does: 6.0+), every symbol, name, type and address; with a
 * System.map (argv[2], optional) every non-absolute entry of it, relocated
 * by KERNELOFFSET, must be in the decoded table at that address.  Where
 * VMCOREINFO locates the tables (all our 6.1+ kernels carry the name index,
 * kallsyms_seqs_of_names), they are read on demand: names looked up that
 * way (600 spread over the table, with names that are not there) must give
 * what the whole table gives, and the table completed must be that table.
 * TAP output. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dump/dump.h"
#include "symtab/kallsyms.h"

static int n_test, n_fail;
#define OK(cond, ...)                                                                  \
	do {                                                                           \
		n_test++;                                                              \
		if (!(cond))                                                           \
			n_fail++;                                                      \
		printf("%sok %d - ", (cond) ? "" : "not ", n_test);                    \
		printf(__VA_ARGS__);                                                   \
		printf("\n");                                                          \
	} while (0)

static bool same(const struct symtab *a, const struct symtab *b, char *why, size_t len)
{
	if (a->n != b->n) {
		snprintf(why, len, "%zu vs %zu symbols", a->n, b->n);
		return false;
	}
	for (size_t i = 0; i < a->n; i++)
		if (a->addr[i] != b->addr[i] || a->type[i] != b->type[i] ||
		    strcmp(symtab_name(a, i), symtab_name(b, i))) {
			snprintf(why, len, "symbol %zu: %s 0x%llx vs %s 0x%llx", i, symtab_name(a, i),
				 (unsigned long long)a->addr[i], symtab_name(b, i),
				 (unsigned long long)b->addr[i]);
			return false;
		}
	return true;
}

static const struct symtab *sort_t;

static int by_name_addr(const void *a, const void *b)
{
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	int c = strcmp(symtab_name(sort_t, i), symtab_name(sort_t, j));
	if (c)
		return c;
	return sort_t->addr[i] < sort_t->addr[j] ? -1 : sort_t->addr[i] > sort_t->addr[j];
}

/* Is NAME at ADDR in T (through IDX, T's indexes sorted by name, address)?
 * 1 yes, 0 the name is there but not at ADDR, -1 the name is not there. */
static int find(const struct symtab *t, const size_t *idx, const char *name, uint64_t addr)
{
	size_t lo = 0, hi = t->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (strcmp(symtab_name(t, idx[mid]), name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == t->n || strcmp(symtab_name(t, idx[lo]), name))
		return -1;
	for (; lo < t->n && !strcmp(symtab_name(t, idx[lo]), name); lo++)
		if (t->addr[idx[lo]] == addr)
			return 1;
	return 0;
}

static void sysmap_compare(struct dump *d, const struct symtab *t, const char *path)
{
	FILE *f = fopen(path, "r");
	OK(f != NULL, "System.map %s opens", path);
	if (!f)
		return;
	size_t *idx = malloc(t->n * sizeof(*idx));
	for (size_t i = 0; i < t->n; i++)
		idx[i] = i;
	sort_t = t;
	qsort(idx, t->n, sizeof(*idx), by_name_addr);
	const char *ko = dump_vmcoreinfo(d, "KERNELOFFSET");
	uint64_t slide = ko ? strtoull(ko, NULL, 16) : 0;
	char line[1024], name[512], type;
	unsigned long long a;
	size_t n = 0, missing = 0, wrong = 0;
	char first_bad[600] = "";
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx %c %511s", &a, &type, name) != 3 || type == 'A' || type == 'a' ||
		    type == 'U' || type == 'w' || type == 'N' || type == 'n')
			continue;
		n++;
		/* zero-based percpu symbols (5.x) are not moved by KASLR */
		uint64_t want = a >= 0xffffffff80000000ull ? a + slide : a;
		int r = find(t, idx, name, want);
		if (r < 0) /* scripts/kallsyms leaves some out (e.g. __kstrtab_*, markers) */
			missing++;
		if (r == 0 && !wrong++)
			snprintf(first_bad, sizeof(first_bad), "%s 0x%llx", name,
				 (unsigned long long)want);
	}
	fclose(f);
	free(idx);
	OK(n > 1000 && wrong == 0 && missing < n / 4,
	   "System.map: %zu symbols, %zu not in kallsyms, %zu elsewhere%s%s", n, missing, wrong,
	   wrong ? ", first " : "", first_bad);
}

/* Lookups in LAZY (read on demand) against the whole table T. */
static void lazy_compare(const struct symtab *t, const struct symtab *lazy)
{
	size_t step = t->n / 600 ? t->n / 600 : 1, asked = 0, differ = 0;
	char first_bad[600] = "";
	for (size_t i = 0; i < t->n; i += step) {
		char miss[300];
		const char *name = symtab_name(t, i);
		snprintf(miss, sizeof(miss), "%s_", name);
		const char *q[3] = { name, miss, i + 1 < t->n ? symtab_name(t, i + 1) : name };
		for (int k = 0; k < 3; k++) {
			uint64_t a = 0, b = 0;
			bool fa = symtab_lookup(t, q[k], &a), fb = symtab_lookup(lazy, q[k], &b);
			asked++;
			if (fa != fb || a != b) {
				if (!differ++)
					snprintf(first_bad, sizeof(first_bad), "%s: %s 0x%llx vs %s 0x%llx",
						 q[k], fa ? "found" : "missing", (unsigned long long)a,
						 fb ? "found" : "missing", (unsigned long long)b);
			}
		}
	}
	OK(differ == 0, "%zu names asked on demand answer as the whole table%s%s", asked,
	   differ ? ", first: " : "", first_bad);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: test-kallsyms DUMP [SYSTEM.MAP]\n");
		return 2;
	}
	struct dump *d;
	struct err *e = dump_open(argv[1], &d);
	if (e) {
		printf("Bail out! %s\n", e->msg);
		return 1;
	}
	struct symtab scanned, located;
	char how[96] = "", how2[96] = "", why[700] = "";
	e = kallsyms_scan(d, &scanned, how, sizeof(how));
	OK(!e, "tables found by their structure: %s, %zu symbols", e ? e->msg : how,
	   e ? (size_t)0 : scanned.n);
	bool have_scanned = !e;
	err_free(e);
	if (dump_vmcoreinfo_symbol(d, "kallsyms_names")) {
		e = kallsyms_load(d, &located, how2, sizeof(how2));
		OK(!e, "tables VMCOREINFO locates: %s", e ? e->msg : how2);
		if (!e) {
			OK(located.src != NULL && located.n == 0,
			   "they are read on demand through the name index");
			if (have_scanned) {
				OK(symtab_count(&located) == scanned.n, "%zu symbols before any is read",
				   symtab_count(&located));
				lazy_compare(&scanned, &located);
			}
			struct err *ce = symtab_complete(&located);
			OK(!ce && !located.src, "completed: %s", ce ? ce->msg : "read whole");
			err_free(ce);
		}
		if (!e && have_scanned)
			OK(same(&scanned, &located, why, sizeof(why)),
			   "both give the same %zu symbols%s%s", located.n, *why ? ": " : "", why);
		if (!e)
			symtab_fini(&located);
		err_free(e);
	}
	/* the search's pages above the tables are kept for the next reader:
	 * the vmlinux BTF, read from them, must be what the dump holds */
	uint64_t start, stop;
	if (have_scanned && symtab_lookup(&scanned, "__start_BTF", &start) &&
	    symtab_lookup(&scanned, "__stop_BTF", &stop) && stop > start && stop - start < (64u << 20)) {
		struct symtab again;
		e = kallsyms_scan(d, &again, NULL, 0); /* the stash as the search leaves it */
		if (!e)
			symtab_fini(&again);
		err_free(e);
		size_t len = stop - start;
		uint8_t *a = malloc(len), *b = malloc(len);
		uint64_t before = dump_stash_served(d);
		struct err *ea = dump_read_virt(d, start, a, len);
		uint64_t served = dump_stash_served(d) - before;
		dump_stash_drop(d);
		struct err *eb = dump_read_virt(d, start, b, len);
		OK(!ea && !eb && served >= len / 4096 && !memcmp(a, b, len),
		   "the BTF (%zu bytes) read from the search's pages (%llu pieces) is the dump's", len,
		   (unsigned long long)served);
		err_free(ea);
		err_free(eb);
		free(a);
		free(b);
	}
	if (argc > 2 && have_scanned)
		sysmap_compare(d, &scanned, argv[2]);
	if (have_scanned)
		symtab_fini(&scanned);
	dump_close(d);
	printf("1..%d\n", n_test);
	return n_fail != 0;
}
