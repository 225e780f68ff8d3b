#define _GNU_SOURCE
#include "symtab/kallsyms.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KALLSYMS_MAX_SYMS (1u << 22)
#define KALLSYMS_MAX_NAMES (64u << 20)	/* bytes of compressed names */
#define KALLSYMS_TOKEN_TABLE_MAX 65536

/* A window onto kallsyms_names, read 64 KiB at a time: its length is not
 * recorded anywhere, so it is consumed as a stream. */
struct name_stream {
	struct dump *d;
	uint64_t base, pos;
	uint8_t buf[65536];
	uint64_t buf_start, buf_len;
};

static struct err *name_stream_fill(struct name_stream *s, uint8_t *b);

/* Inline: called once per byte of 94k compressed names. */
static inline struct err *name_stream_byte(struct name_stream *s, uint8_t *b)
{
	if (s->pos >= s->buf_start && s->pos < s->buf_start + s->buf_len &&
	    s->pos - s->base < KALLSYMS_MAX_NAMES) {
		*b = s->buf[s->pos++ - s->buf_start];
		return NULL;
	}
	return name_stream_fill(s, b);
}

static struct err *name_stream_fill(struct name_stream *s, uint8_t *b)
{
	if (s->pos - s->base >= KALLSYMS_MAX_NAMES)
		return err_new(ERR_CORRUPT, "kallsyms_names: longer than %u bytes", KALLSYMS_MAX_NAMES);
	if (s->pos < s->buf_start || s->pos >= s->buf_start + s->buf_len) {
		/* Do not read across the next page boundary we cannot see: read
		 * page by page if a bulk read fails (e.g. end of the section). */
		s->buf_start = s->pos;
		s->buf_len = sizeof(s->buf);
		struct err *e = dump_read_virt(s->d, s->pos, s->buf, sizeof(s->buf));
		if (e) {
			err_free(e);
			s->buf_len = PAGE_SIZE - (s->pos & (PAGE_SIZE - 1));
			if ((e = dump_read_virt(s->d, s->pos, s->buf, s->buf_len)))
				return err_wrap(e, "kallsyms_names");
		}
	}
	*b = s->buf[s->pos - s->buf_start];
	s->pos++;
	return NULL;
}

static uint64_t kallsyms_addr(int32_t off, uint64_t base, bool percpu)
{
	if (!percpu)
		return base + (uint32_t)off;
	return off >= 0 ? (uint64_t)(int64_t)off : base - 1 - (uint64_t)(int64_t)off;
}

struct err *kallsyms_load(struct dump *d, struct symtab *out)
{
	uint64_t names = dump_vmcoreinfo_symbol(d, "kallsyms_names");
	uint64_t num = dump_vmcoreinfo_symbol(d, "kallsyms_num_syms");
	uint64_t ttab = dump_vmcoreinfo_symbol(d, "kallsyms_token_table");
	uint64_t tidx = dump_vmcoreinfo_symbol(d, "kallsyms_token_index");
	uint64_t offs = dump_vmcoreinfo_symbol(d, "kallsyms_offsets");
	uint64_t rbase = dump_vmcoreinfo_symbol(d, "kallsyms_relative_base");
	uint64_t abs = dump_vmcoreinfo_symbol(d, "kallsyms_addresses");
	if (!names || !num || !ttab || !tidx || (!offs && !abs))
		return err_new(ERR_NOTFOUND, "VMCOREINFO does not locate kallsyms (kernel older than "
			       "6.0?); give --system-map");

	struct err *e;
	uint32_t nsyms;
	uint64_t base = 0;
	if ((e = dump_read_u32(d, num, &nsyms)))
		return err_wrap(e, "kallsyms_num_syms");
	if (nsyms == 0 || nsyms > KALLSYMS_MAX_SYMS)
		return err_new(ERR_CORRUPT, "kallsyms_num_syms at 0x%llx is %u, not a symbol count",
			       (unsigned long long)num, nsyms);
	if (offs && rbase && (e = dump_read_u64(d, rbase, &base)))
		return err_wrap(e, "kallsyms_relative_base");

	uint16_t token_index[256];
	if ((e = dump_read_virt(d, tidx, token_index, sizeof(token_index))))
		return err_wrap(e, "kallsyms_token_index");
	char *tokens = malloc(KALLSYMS_TOKEN_TABLE_MAX + 1);
	void *vals = malloc((size_t)nsyms * (offs ? 4 : 8));
	struct name_stream *ns = calloc(1, sizeof(*ns));
	if (!tokens || !vals || !ns) {
		e = err_new(ERR_NOMEM, "out of memory");
		goto out;
	}
	uint32_t tlen = 0;
	for (int i = 0; i < 256; i++)
		if (token_index[i] > tlen)
			tlen = token_index[i];
	tlen += 256; /* the last token's text; a token is at most a few bytes */
	if (tlen > KALLSYMS_TOKEN_TABLE_MAX)
		tlen = KALLSYMS_TOKEN_TABLE_MAX;
	if ((e = dump_read_virt(d, ttab, tokens, tlen))) {
		e = err_wrap(e, "kallsyms_token_table");
		goto out;
	}
	tokens[tlen] = '\0';
	if ((e = dump_read_virt(d, offs ? offs : abs, vals, (size_t)nsyms * (offs ? 4 : 8)))) {
		e = err_wrap(e, "kallsyms_offsets");
		goto out;
	}
	/* With ABSOLUTE_PERCPU, ordinary symbols are stored negated; without it
	 * every offset is a non-negative distance from the base. */
	bool percpu = false;
	if (offs)
		for (uint32_t i = 0; i < nsyms; i++)
			if (((int32_t *)vals)[i] < 0) {
				percpu = true;
				break;
			}

	if ((e = symtab_init(out, "vmlinux")))
		goto out;
	ns->d = d;
	ns->base = ns->pos = names;
	char name[1024];
	for (uint32_t i = 0; i < nsyms; i++) {
		uint8_t b = 0;
		if ((e = name_stream_byte(ns, &b)))
			goto out;
		uint32_t len = b;
		if (b & 0x80) { /* long names: 2-byte length */
			if ((e = name_stream_byte(ns, &b)))
				goto out;
			len = (len & 0x7f) | ((uint32_t)b << 7);
		}
		size_t n = 0;
		for (uint32_t k = 0; k < len; k++) {
			if ((e = name_stream_byte(ns, &b)))
				goto out;
			for (const char *t = tokens + token_index[b]; *t && n < sizeof(name) - 1; t++)
				name[n++] = *t;
		}
		if (n < 2) {
			e = err_new(ERR_CORRUPT, "kallsyms_names: symbol %u has an empty name", i);
			goto out;
		}
		uint64_t addr = offs ? kallsyms_addr(((int32_t *)vals)[i], base, percpu)
				     : ((uint64_t *)vals)[i];
		if ((e = symtab_add(out, name + 1, n - 1, addr, name[0])))
			goto out;
	}
	if ((e = symtab_finish(out)))
		goto out;
	/* Cross-check the decoding against symbols VMCOREINFO states directly. */
	static const char *const anchors[] = { "init_uts_ns", "_stext" };
	for (size_t i = 0; i < sizeof(anchors) / sizeof(anchors[0]); i++) {
		uint64_t want = dump_vmcoreinfo_symbol(d, anchors[i]), got;
		if (!want)
			continue;
		if (!symtab_lookup(out, anchors[i], &got) || got != want) {
			e = err_new(ERR_CORRUPT, "kallsyms: decoded %s does not match VMCOREINFO (0x%llx)",
				    anchors[i], (unsigned long long)want);
			goto out;
		}
	}
out:
	if (e)
		symtab_fini(out);
	free(tokens);
	free(vals);
	free(ns);
	return e;
}

struct err *sysmap_load(struct dump *d, const char *path, struct symtab *out)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return err_new(ERR_OS, "%s: %s", path, strerror(errno));
	/* System.map has link-time addresses; KASLR moves them by KERNELOFFSET. */
	const char *ko = dump_vmcoreinfo(d, "KERNELOFFSET");
	uint64_t slide = ko ? strtoull(ko, NULL, 16) : 0;
	struct err *e = symtab_init(out, "vmlinux");
	char line[1024];
	unsigned long lineno = 0;
	while (!e && fgets(line, sizeof(line), f)) {
		lineno++;
		unsigned long long a;
		char type, name[512];
		if (sscanf(line, "%llx %c %511s", &a, &type, name) != 3) {
			e = err_new(ERR_FORMAT, "%s:%lu: not a System.map line", path, lineno);
			break;
		}
		/* Absolute symbols (percpu offsets, constants) do not slide. */
		uint64_t addr = (type == 'A' || type == 'a') ? a : a + slide;
		e = symtab_add(out, name, strlen(name), addr, type);
	}
	fclose(f);
	if (!e)
		e = symtab_finish(out);
	if (!e) {
		uint64_t want = dump_vmcoreinfo_symbol(d, "init_uts_ns"), got;
		if (want && (!symtab_lookup(out, "init_uts_ns", &got) || got != want))
			e = err_new(ERR_FORMAT, "%s: does not belong to this dump (init_uts_ns differs)", path);
	}
	if (e)
		symtab_fini(out);
	return e;
}

#define KALLSYMS_PROC_MAX_MODULES 8192

struct err *kallsyms_load_proc(struct dump *d, const char *path, struct symtab *vmlinux,
			       struct symtab **mods, size_t *nmods)
{
	*mods = NULL;
	*nmods = 0;
	FILE *f = fopen(path, "r");
	if (!f)
		return err_new(ERR_OS, "%s: %s", path, strerror(errno));
	struct err *e = symtab_init(vmlinux, "vmlinux");
	char line[1024];
	unsigned long lineno = 0;
	uint64_t nonzero = 0;
	struct symtab *m = NULL; /* the module of the previous line: they come in runs */
	while (!e && fgets(line, sizeof(line), f)) {
		if (++lineno > KALLSYMS_MAX_SYMS) {
			e = err_new(ERR_FORMAT, "%s: more than %u lines", path, KALLSYMS_MAX_SYMS);
			break;
		}
		unsigned long long a;
		char type, name[512], mod[80] = "";
		int n = sscanf(line, "%llx %c %511s [%79[^]]]", &a, &type, name, mod);
		if (n < 3) {
			e = err_new(ERR_FORMAT, "%s:%lu: not a kallsyms line", path, lineno);
			break;
		}
		nonzero += a != 0;
		if (n < 4) {
			e = symtab_add(vmlinux, name, strlen(name), a, type);
			continue;
		}
		if (!m || strcmp(m->name, mod)) {
			m = NULL;
			for (size_t i = 0; i < *nmods && !m; i++)
				if (!strcmp((*mods)[i].name, mod))
					m = &(*mods)[i];
		}
		if (!m) {
			void *p = *nmods < KALLSYMS_PROC_MAX_MODULES
					  ? realloc(*mods, (*nmods + 1) * sizeof(**mods)) : NULL;
			if (!p) {
				e = err_new(ERR_NOMEM, "%s: out of memory for module %s", path, mod);
				break;
			}
			*mods = p;
			m = &(*mods)[*nmods];
			if ((e = symtab_init(m, mod)))
				break;
			++*nmods;
		}
		e = symtab_add(m, name, strlen(name), a, type);
	}
	fclose(f);
	if (!e && !nonzero)
		e = err_new(ERR_NOTFOUND, "%s: every address reads 0 (hidden by kptr_restrict, or not "
			    "root)", path);
	if (!e)
		e = symtab_finish(vmlinux);
	for (size_t i = 0; i < *nmods && !e; i++)
		e = symtab_finish(&(*mods)[i]);
	if (!e) {
		uint64_t want = dump_vmcoreinfo_symbol(d, "init_uts_ns"), got;
		if (want && (!symtab_lookup(vmlinux, "init_uts_ns", &got) || got != want))
			e = err_new(ERR_FORMAT, "%s: does not belong to this kernel (init_uts_ns differs "
				    "from VMCOREINFO)", path);
	}
	if (e) {
		symtab_fini(vmlinux);
		for (size_t i = 0; i < *nmods; i++)
			symtab_fini(&(*mods)[i]);
		free(*mods);
		*mods = NULL;
		*nmods = 0;
	}
	return e;
}
