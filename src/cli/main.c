/* spte-inspect [OPTIONS] DUMP [COMMAND [ARGS]]: options may stand anywhere,
 * as in crash; errors come back as values and become exit bits only here. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "browse/browse.h"
#include "cmd/session.h"

#ifndef SPTE_INSPECT_VERSION
#define SPTE_INSPECT_VERSION "unknown"
#endif

struct command {
	const char *name;
	cmd_fn fn;
	int min_args, max_args;	/* after the command's name; -1: any number */
	const char *args;
	const char *help;
	const char *details;	/* COMMAND --help: arguments, options that apply, JSON */
};

static const struct command commands[] = {
	{ "summary", cmd_summary, 0, 0, "", "kernel, MMU mode, every VM and its SPTE counts (default)",
	  "Runs the walk and every check. Applies: --vm, --root, --gfn-range,\n"
	  "--level (the counts), --check, --severity (the findings at the end).\n"
	  "JSON: \"vms\" (\"leaves_by_level\", \"leaves_by_wad\", ...), \"findings\",\n"
	  "\"finding_counts\".\n" },
	{ "info", cmd_info, 0, 0, "", "dump format, kernel release, where symbols and types came from",
	  "JSON: \"format\", \"release\", \"kernel_offset\", \"symbols\", \"types\", \"modules\",\n"
	  "\"recovered\" (offsets recovered from machine code), \"masks\".\n" },
	{ "vms", cmd_vms, 0, 0, "", "every VM on vm_list: owner pid, command, vCPUs, memslots, roots",
	  "Applies: --vm. JSON: \"vms\", each with vm, pid, kvm, comm, mm, online_vcpus,\n"
	  "memslots, roots, tdp_mmu, dirty_log and \"vcpus\" (idx, vcpu_id, root_hpa, mode).\n" },
	{ "memslots", cmd_memslots, 0, 0, "", "memslots of every address space, with dirty-bitmap state",
	  "Applies: --vm. JSON: \"memslots\", each with vm, pid, kvm, as_id, id, base_gfn,\n"
	  "npages, flags, userspace_addr, dirty_bitmap and \"dirty_gfns\" (the set bits).\n" },
	{ "roots", cmd_roots, 0, 0, "", "every TDP MMU root: role, validity, refcount, vCPUs using it",
	  "VCPUS lists the indices of the vCPUs whose root.hpa is the root's table.\n"
	  "Applies: --vm, --root. JSON: \"roots\", each with vm, pid, kvm, sp, spt, spt_pa, role, level,\n"
	  "smm, guest_mode, ad_disabled, invalid, refcount, vcpus.\n" },
	{ "sptes", cmd_sptes, 0, 1, "[BITS]", "every non-empty SPTE; BITS filters, e.g. W=1,D=0",
	  "BITS: comma-separated NAME=0|1 with NAME one of P R U W X XU A D PS HW MW\n"
	  "AT leaf; a filter selects leaves unless it names leaf=0. Applies: --vm, --root,\n"
	  "--gfn-range, --level, --pfn. JSON: \"sptes\", each with vm, pid, kvm, root,\n"
	  "level, gfn, spte and \"bits\" (kind, leaf, pfn and the decoded bits by name).\n" },
	{ "gfn", cmd_gfn, 1, 1, "GFN", "the walk from each root to GFN, one line per level",
	  "GFN: a guest frame number (0x... or decimal), gpa:ADDR, hva:ADDR (the gfn\n"
	  "each VM's memslots give it) or pfn:N (every gfn whose leaf maps host frame\n"
	  "N). One walk per root of the selected VMs and gfn. Applies: --vm, --root.\n"
	  "JSON: \"query\", \"gfn\" (null for hva: and pfn:), \"walks\", each with vm,\n"
	  "pid, kvm, root, gfn, memslot, \"walk\" (level, table_pa, index, entry_pa,\n"
	  "spte, bits), result.\n" },
	{ "pfn", cmd_pfn, 1, 1, "PFN", "who maps host frame PFN: every VM, root, level and gfn",
	  "PFN: a host frame number (0x... or decimal). Every leaf SPTE of the\n"
	  "selected roots that maps it, with the gfn (in a huge leaf, the one gfn\n"
	  "that maps PFN), memslot and hva. Applies: --vm, --root. JSON: \"pfn\",\n"
	  "\"mappings\", each with vm, pid, kvm, root, level, gfn, spte, bits, memslot.\n" },
	{ "check", cmd_check, 0, 0, "", "audit every SPTE against memslots, dirty logs, the VMM's page tables",
	  "Applies: --check ID,..., --severity, --vm, --root, --gfn-range. See\n"
	  "--list-checks for the catalogue. Exit bit 1 when a finding at or above the\n"
	  "floor is reported, bit 2 when a part is inconclusive. JSON: \"findings\" (check,\n"
	  "severity, inconclusive, vm, pid, kvm, root, gfn, level, spte, bits, message,\n"
	  "evidence), \"finding_counts\".\n" },
	{ "browse", cmd_browse, 0, 0, "", "full-screen browser of the VMs and their guest-physical space",
	  "Keys: arrows/hjkl move, Enter opens, Esc/q back, +/- zoom, / jump to a\n"
	  "gfn, gpa:ADDR, hva:ADDR or pfn:N, n/N next/previous finding, r next root,\n"
	  "f filter, s sort, ? every key. Applies: --vm (opens that VM), --check,\n"
	  "--severity. Needs a terminal; NO_COLOR draws without colors.\n" },
	{ "dis", cmd_dis, 1, 2, "SYM [N]", "disassemble kernel/module code (SYMBOL, ADDRESS or cpuN's RIP)",
	  "SYM: a symbol (module:name, +offset allowed), an address, or cpuN (that\n"
	  "CPU's saved RIP); N: the number of instructions (default: to the symbol's\n"
	  "end). -r, --reverse: the instructions leading up to SYM, from its function's\n"
	  "start (the last N), as crash's dis -r (dis -r cpu1: how CPU 1 got to its\n"
	  "RIP). --att: AT&T syntax, as objdump and crash print it. JSON: \"instructions\" (address, symbol, bytes, mnemonic, operands, target).\n" },
	{ "extract", cmd_extract, 1, 1, "OUT", "write a KVM-only kdump holding just what spte-inspect reads",
	  "OUT: the kdump-compressed file to write (through OUT.tmp). Holds what\n"
	  "opening, every command, check with its evidence and dis of the KVM\n"
	  "modules read, and no guest frame (no page an SPTE leaf maps) unless\n"
	  "--with-gfn LO-HI asks for those gfns' frames (of --vm's VM, or every VM).\n"
	  "From /proc/kcore: a live host's pages copied as the analysis reads them;\n"
	  "what did not hold still is recorded as incomplete in OUT (exit bit 2).\n"
	  "JSON: output, pages, bytes, source_bytes, guest_pages_left_out,\n"
	  "with_gfn_pages, extract_incomplete.\n" },
	{ "diff", cmd_diff, 1, 2, "DUMP2", "what changed from DUMP to DUMP2 (also: spte-inspect diff A B)",
	  "VMs that appeared or went (struct kvm address and owner pid), memslots\n"
	  "added, removed, moved, resized or with new flags, roots created, invalidated\n"
	  "or gone, SPTEs added, removed or changed (pfn, bits as W 1->0), findings\n"
	  "that appeared or were resolved. Applies: --vm, --root, --gfn-range, --level,\n"
	  "--check, --severity, and BITS as in sptes (DUMP2 [BITS]). Exit bit 1 when\n"
	  "anything differs. JSON: \"vms\", \"memslots\", \"roots\", \"sptes\",\n"
	  "\"findings\", \"differences\"; --json-lines streams each list's records.\n" },
	/* Hidden: machine-readable lists for shell completion. */
	{ "__pids", cmd_pids, 0, 0, "", NULL, NULL },
	{ "__symbols", cmd_symbols, 0, 1, "[PREFIX]", NULL, NULL },
	{ "__vtop", cmd_vtop, 1, 1, "VA", NULL, NULL },
	{ "__offset", cmd_offset, 1, -1, "STRUCT.MEMBER", NULL, NULL },
	{ "__rd64", cmd_rd64, 1, 1, "VA", NULL, NULL },
	{ "__rmaps", cmd_rmaps, 0, 0, "", NULL, NULL },
	{ "__hash", cmd_hash, 0, 0, "", NULL, NULL },
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

/* -J: accepted up to MAX_JOBS; by default the online CPUs, at most
 * DEFAULT_JOBS_MAX: each reader beyond the first holds its own view of the
 * file (libkdumpfile's bitmaps of it), and past the decoding thread's own
 * pace more readers only wait. */
#define MAX_JOBS 64
#define DEFAULT_JOBS_MAX 8

static unsigned default_jobs(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > DEFAULT_JOBS_MAX ? DEFAULT_JOBS_MAX : (unsigned)n;
}

static const struct option long_opts[] = {
	{ "json", no_argument, NULL, 'j' },
	{ "pretty", no_argument, NULL, 'p' },
	{ "json-lines", no_argument, NULL, 'N' },
	{ "jobs", required_argument, NULL, 'J' },
	{ "color", required_argument, NULL, 'C' },
	{ "att", no_argument, NULL, 'A' },
	{ "reverse", no_argument, NULL, 'R' },
	{ "vm", required_argument, NULL, 'v' },
	{ "root", required_argument, NULL, 'o' },
	{ "gfn-range", required_argument, NULL, 'g' },
	{ "level", required_argument, NULL, 'l' },
	{ "pfn", required_argument, NULL, 'P' },
	{ "vmlinux", required_argument, NULL, 'k' },
	{ "module", required_argument, NULL, 'm' },
	{ "system-map", required_argument, NULL, 's' },
	{ "check", required_argument, NULL, 'c' },
	{ "severity", required_argument, NULL, 'S' },
	{ "list-checks", no_argument, NULL, 'L' },
	{ "with-gfn", required_argument, NULL, 'G' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static void usage(FILE *f, const struct command *only)
{
	if (only) {
		fprintf(f, "Usage: spte-inspect [OPTIONS] DUMP %s%s%s\n  %s\n", only->name,
			only->args[0] ? " " : "", only->args, only->help);
		if (only->details)
			fprintf(f, "\n%s", only->details);
		fprintf(f, "\nOptions that apply to every command: -j/--json, -p/--pretty, --vmlinux,\n"
			   "--module, --system-map (see spte-inspect --help and spte-inspect(1)).\n");
		return;
	}
	fprintf(f,
		"Usage: spte-inspect [OPTIONS] DUMP [COMMAND [ARGS]]\n"
		"Analyse the KVM TDP MMU page tables (EPT/NPT) in a host crash dump.\n\n"
		"DUMP: a kdump-compressed (also flattened) or ELF vmcore, or /proc/kcore.\n\n"
		"Commands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (commands[i].help)
			fprintf(f, "  %-9s %-7s %s\n", commands[i].name, commands[i].args, commands[i].help);
	fprintf(f,
		"\nOptions:\n"
		"  -j, --json              JSON output (schema_version %d)\n"
		"  -p, --pretty            pretty-printed JSON (implies --json)\n"
		"      --json-lines        JSON Lines: one record per line, the document last\n"
		"      --color WHEN        severities in color: auto (a terminal, NO_COLOR\n"
		"                          unset), always or never\n"
		"      --vm VM             only the VMs of pid VM, or PID:N (its Nth VM, from 0),\n"
		"                          or the VM whose struct kvm is at address VM\n"
		"      --root ADDR         only the root with this kvm_mmu_page address\n"
		"      --gfn-range LO[-HI] only SPTEs covering gfns LO..HI (inclusive)\n"
		"      --level N           only SPTEs at level N (1 = 4K ... 5)\n"
		"      --pfn LO[-HI]       only leaves mapping host frames LO..HI (sptes)\n"
		"      --vmlinux FILE      vmlinux with .BTF, when the dump lacks BTF\n"
		"      --module FILE       module .ko with .BTF (repeatable)\n"
		"      --system-map FILE   System.map, when the dump lacks kallsyms\n"
		"  -J, --jobs N            threads reading the dump (default: online CPUs)\n"
		"      --check ID[,ID...]  run only these checks (see --list-checks)\n"
		"      --severity LEVEL    report findings at or above info|warning|error\n"
		"      --list-checks       print the catalogue of checks with their documentation\n"
		"  -r, --reverse           dis: the instructions leading up to the address\n"
		"      --att               dis: AT&T syntax\n"
		"      --with-gfn LO[-HI]  extract: keep the guest frames of these gfns\n"
		"  -h, --help              this help (COMMAND --help: that command's)\n"
		"  -V, --version           print the version\n\n"
		"Exit status bits: 1 findings, 2 analysis incomplete, 4 fatal error, 8 usage error.\n",
		JSON_SCHEMA_VERSION);
}

static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[64];
	if (la > 63 || lb > 63)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t prev = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t cur = row[j];
			size_t sub = prev + (a[i - 1] != b[j - 1]);
			size_t del = row[j] + 1, ins = row[j - 1] + 1;
			row[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
			prev = cur;
		}
	}
	return row[lb];
}

static const char *closest(const char *word, const char *const *cands, size_t n)
{
	const char *best = NULL;
	size_t bd = 3; /* suggest only near misses */
	for (size_t i = 0; i < n; i++) {
		size_t d = edit_distance(word, cands[i]);
		if (d < bd) {
			bd = d;
			best = cands[i];
		}
	}
	return best;
}

static int fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "spte-inspect: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return code;
}

static struct err *parse_checks(const char *spec, struct check_opts *o)
{
	bool any = false;
	char *buf = strdup(spec); /* any length: a fixed buffer dropped checks silently */
	if (!buf)
		return err_new(ERR_NOMEM, "out of memory");
	for (int i = 0; i < CHK_COUNT; i++)
		o->enabled[i] = false;
	for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		const struct check_def *c = check_by_name(tok);
		if (!c) {
			const char *names[CHK_COUNT];
			for (int i = 0; i < CHK_COUNT; i++)
				names[i] = check_catalog[i].name;
			const char *sug = closest(tok, names, CHK_COUNT);
			struct err *e = err_new(ERR_USAGE, "--check: unknown check '%s'%s%s%s", tok,
						sug ? "; did you mean '" : " (see --list-checks)",
						sug ? sug : "", sug ? "'?" : "");
			free(buf);
			return e;
		}
		o->enabled[c->id] = true;
		any = true;
	}
	free(buf);
	return any ? NULL : err_new(ERR_USAGE, "--check: no check named");
}

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (!strcmp(name, commands[i].name))
			return &commands[i];
	return NULL;
}

static int unknown_command(const char *word)
{
	const char *names[NCOMMANDS];
	size_t n = 0;
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (commands[i].help) /* hidden ones are never suggested */
			names[n++] = commands[i].name;
	const char *sug = closest(word, names, n);
	if (sug)
		return fail(EXIT_USAGE, "%s: unknown command; did you mean '%s'?", word, sug);
	return fail(EXIT_USAGE, "%s: unknown command (see --help)", word);
}

/* "gfn GFN": the command and its arguments, for messages. */
static const char *usage_line(const struct command *c)
{
	static char buf[64];
	snprintf(buf, sizeof(buf), "%s%s%s", c->name, c->args[0] ? " " : "", c->args);
	return buf;
}

/* What a long option's value is, for "needs ...". */
static const char *option_value_name(const char *opt)
{
	static const struct { const char *opt, *what; } v[] = {
		{ "vm", "a VM (PID, PID:N or a struct kvm address)" },
		{ "root", "a root (a kvm_mmu_page address)" },
		{ "gfn-range", "a gfn range (LO or LO-HI)" },
		{ "level", "a level (1 to 5)" },
		{ "pfn", "a host frame range (LO or LO-HI)" },
		{ "vmlinux", "a file (vmlinux with .BTF)" },
		{ "module", "a file (a module .ko)" },
		{ "system-map", "a file (System.map)" },
		{ "check", "check names (see --list-checks)" },
		{ "severity", "a severity (info, warning or error)" },
		{ "color", "auto, always or never" },
		{ "jobs", "a number of threads" },
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if (!strcmp(v[i].opt, opt))
			return v[i].what;
	return "a value";
}

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;
	errno = 0;
	*v = strtoull(s, &end, 0);
	return errno || end == s || *end ? -1 : 0;
}

/* LO or LO-HI (inclusive) for --gfn-range, --with-gfn and --pfn; says what is
 * wrong itself, so the caller only returns EXIT_USAGE. Cuts ARG at the dash. */
static int parse_range(const char *opt, char *arg, uint64_t *lo, uint64_t *hi)
{
	char *dash = strchr(arg, '-');
	if (dash)
		*dash = '\0';
	if (parse_u64(arg, lo) || (dash && parse_u64(dash + 1, hi))) {
		fail(EXIT_USAGE, "%s: expected LO or LO-HI", opt);
		return -1;
	}
	if (!dash)
		*hi = *lo;
	if (*hi < *lo) {
		fail(EXIT_USAGE, "%s: HI is below LO", opt);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct session s;
	memset(&s, 0, sizeof(s));
	s.sel.vm_pid = -1;
	s.sel.range.gfn_hi = UINT64_MAX;
	s.out = stdout;
	struct target_opts topts = { .jobs = default_jobs() };
	const char *mods[64];
	bool help = false, list_checks = false;
	int color = -1;	/* --color: -1 auto, 0 never, 1 always */
	check_opts_default(&s.copts);
	int c;
	uint64_t v;
	opterr = 0;
	/* '+' would stop at the first non-option; we want options anywhere.
	 * The leading ':' tells a missing value (':') from an unknown option. */
	while ((c = getopt_long(argc, argv, ":jphVrJ:", long_opts, NULL)) != -1) {
		switch (c) {
		case 'j': s.json = true; break;
		case 'p': s.json = s.pretty = true; break;
		case 'N': s.json = s.lines = true; break;
		case 'J':
			if (parse_u64(optarg, &v) || v < 1 || v > MAX_JOBS)
				return fail(EXIT_USAGE, "--jobs: '%s' is not a number of threads from 1 to %d",
					    optarg, MAX_JOBS);
			topts.jobs = (unsigned)v;
			break;
		case 'A': s.dis_att = true; break;
		case 'r':
		case 'R': s.dis_reverse = true; break;
		case 'C':
			if (!strcmp(optarg, "auto"))
				color = -1;
			else if (!strcmp(optarg, "always"))
				color = 1;
			else if (!strcmp(optarg, "never"))
				color = 0;
			else
				return fail(EXIT_USAGE, "--color: '%s' is not auto, always or never", optarg);
			break;
		case 'v': s.sel.vm_spec = optarg; break;
		case 'o':
			if (parse_u64(optarg, &s.sel.root))
				return fail(EXIT_USAGE, "--root: '%s' is not an address", optarg);
			break;
		case 'g':
			if (parse_range("--gfn-range", optarg, &s.sel.range.gfn_lo,
					&s.sel.range.gfn_hi))
				return EXIT_USAGE;
			break;
		case 'G':
			if (parse_range("--with-gfn", optarg, &s.with_gfn_range.gfn_lo,
					&s.with_gfn_range.gfn_hi))
				return EXIT_USAGE;
			s.with_gfn = true;
			break;
		case 'l':
			if (parse_u64(optarg, &v) || v < 1 || v > 5)
				return fail(EXIT_USAGE, "--level: '%s' is not a level from 1 to 5", optarg);
			s.sel.level = (int)v;
			break;
		case 'P':
			if (parse_range("--pfn", optarg, &s.sel.pfn_lo, &s.sel.pfn_hi))
				return EXIT_USAGE;
			s.sel.by_pfn = true;
			break;
		case 'k': topts.vmlinux = optarg; break;
		case 's': topts.sysmap = optarg; break;
		case 'm':
			if (topts.nmodule_files == 64)
				return fail(EXIT_USAGE, "--module: at most 64 files");
			mods[topts.nmodule_files++] = optarg;
			topts.module_files = mods;
			break;
		case 'c': {
			struct err *ce = parse_checks(optarg, &s.copts);
			if (ce) {
				fprintf(stderr, "spte-inspect: %s\n", ce->msg);
				err_free(ce);
				return EXIT_USAGE;
			}
			break;
		}
		case 'S': {
			int sev = severity_parse(optarg);
			if (sev < 0)
				return fail(EXIT_USAGE, "--severity: '%s' is not info, warning or error", optarg);
			s.copts.floor = (enum severity)sev;
			break;
		}
		case 'L': list_checks = true; break;
		case 'h': help = true; break;
		case 'V': printf("spte-inspect %s\n", SPTE_INSPECT_VERSION); return 0;
		case ':': {
			const char *what = "a value";
			for (const struct option *o = long_opts; o->name; o++)
				if (o->val == optopt)
					what = option_value_name(o->name);
			return fail(EXIT_USAGE, "%s: needs %s", argv[optind - 1], what);
		}
		default: {
			const char *bad = argv[optind - 1];
			const char *names[sizeof(long_opts) / sizeof(long_opts[0])];
			char buf[sizeof(long_opts) / sizeof(long_opts[0])][24];
			size_t n = 0;
			for (const struct option *o = long_opts; o->name; o++, n++) {
				snprintf(buf[n], sizeof(buf[n]), "--%s", o->name);
				names[n] = buf[n];
			}
			const char *sug = closest(bad, names, n);
			if (sug)
				return fail(EXIT_USAGE, "%s: unknown option; did you mean '%s'?", bad, sug);
			return fail(EXIT_USAGE, "%s: unknown option or missing argument (see --help)",
				    bad);
		}
		}
	}
	/* auto: a terminal, and NO_COLOR (no-color.org) unset or empty */
	const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");
	s.color = color > 0 || (color < 0 && isatty(STDOUT_FILENO) && !(nc && *nc) &&
				!(term && !strcmp(term, "dumb")));
	int nargs = argc - optind;
	char **args = argv + optind;
	/* `help [COMMAND]`, as git and crash have it. */
	if (nargs >= 1 && !strcmp(args[0], "help") && access(args[0], F_OK)) {
		if (nargs > 2)
			return fail(EXIT_USAGE, "help: unexpected argument '%s'", args[2]);
		const struct command *hc = NULL;
		if (nargs == 2 && !(hc = find_command(args[1])))
			return unknown_command(args[1]);
		usage(stdout, hc);
		return 0;
	}
	/* The command before the dump (`sptes DUMP`) reads as naturally; a file
	 * of that name wins. */
	const struct command *first = nargs >= 1 ? find_command(args[0]) : NULL;
	if (first && access(args[0], F_OK)) {
		if (nargs >= 2) {
			char *t = args[0];
			args[0] = args[1];
			args[1] = t;
		} else if (help) {
			usage(stdout, first);
			return 0;
		} else {
			return fail(EXIT_USAGE, "%s: needs a DUMP (spte-inspect [OPTIONS] DUMP %s)",
				    first->name, first->name);
		}
	}
	const struct command *cmd = &commands[0];
	if (nargs >= 2 && !(cmd = find_command(args[1])))
		return unknown_command(args[1]);
	if (help) {
		usage(stdout, nargs >= 2 ? cmd : NULL);
		return 0;
	}
	if (list_checks) {
		cmd_list_checks(&s);
		return 0;
	}
	if (nargs < 1) {
		fprintf(stderr, "Usage: spte-inspect [OPTIONS] DUMP [COMMAND [ARGS]]\n"
			"Try 'spte-inspect --help' for more information.\n");
		return EXIT_USAGE;
	}
	/* Stray or missing arguments: one rule for every command, before the
	 * dump is opened. */
	int cargs = nargs >= 2 ? nargs - 2 : 0;
	if (cargs < cmd->min_args)
		return fail(EXIT_USAGE, "%s: missing argument (spte-inspect [OPTIONS] DUMP %s)", cmd->name,
			    usage_line(cmd));
	if (cmd->max_args >= 0 && cargs > cmd->max_args)
		return fail(EXIT_USAGE, "%s: unexpected argument '%s'", cmd->name,
			    args[2 + cmd->max_args]);
	if ((s.dis_reverse || s.dis_att) && cmd->fn != cmd_dis)
		return fail(EXIT_USAGE, "%s: applies to dis only, not %s", s.dis_reverse ? "-r/--reverse"
			    : "--att", cmd->name);
	s.topts = &topts;
	struct err *e = target_open(args[0], &topts, &s.T);
	if (!e)
		e = kvm_host_load(s.T, &s.H);
	if (!e)
		extract_notes(s.T, &s.H.notes);
	if (!e && cmd->fn != cmd_pids && cmd->fn != cmd_symbols)
		e = select_resolve(&s.sel, &s.H);
	if (!e) {
		char *sub[] = { (char *)cmd->name };
		e = cmd->fn(&s, nargs >= 2 ? nargs - 1 : 1, nargs >= 2 ? args + 1 : sub);
	}
	if (fflush(stdout) && !e)
		e = err_new(ERR_OS, "writing output: %s", strerror(errno));
	if (s.T && dump_is_live(s.T->dump)) {
		/* What the live-consistency machinery did, for the operator. */
		const struct dump_live_stats *ds = dump_live_stats(s.T->dump);
		const struct live_stats *ls = &s.T->live;
		fprintf(stderr, "spte-inspect: live %s: %llu reads retried (%llu never settled), %llu table "
			"entries re-read, %llu objects re-read (%llu changed under us), %llu findings "
			"re-checked (%llu re-judged, %llu changed while reading)\n", dump_path(s.T->dump),
			(unsigned long long)(ds->reads_retried + ls->reads_retried),
			(unsigned long long)(ds->reads_changed + ls->reads_changed),
			(unsigned long long)ls->entries_reread, (unsigned long long)ls->objects_retried,
			(unsigned long long)ls->objects_changed, (unsigned long long)ls->findings_rechecked,
			(unsigned long long)ls->findings_reevaluated, (unsigned long long)ls->findings_changed);
	}
	int code = s.exit_bits;
	if (s.H.notes.n || (s.T && dump_filtered_reads(s.T->dump)))
		code |= EXIT_INCOMPLETE;
	if (e) {
		fprintf(stderr, "spte-inspect: %s\n", e->msg);
		code |= e->kind == ERR_USAGE ? EXIT_USAGE : EXIT_FATAL;
		err_free(e);
	}
	if (s.env_f) { /* --json-lines, the command failed before its document ended */
		fclose(s.env_f);
		free(s.env_buf);
	}
	free(s.env);
	notes_fini(&s.walk_notes);
	kvm_host_fini(&s.H);
	target_close(s.T);
	return code;
}
