#include "cmd/session.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

const char *walk_level_name(int level)
{
	static const char *const n[] = { "?", "PTE", "PDE", "PDPTE", "PML4E", "PML5E" };
	return level >= 1 && level <= 5 ? n[level] : "?";
}

const char *vm_mode_name(int mode)
{
	static const char *const names[] = { "outside-guest", "in-guest", "exiting-guest",
					     "reading-shadow-page-tables" };
	return mode >= 0 && mode < 4 ? names[mode] : "unknown";
}

static void json_doc_begin(struct session *s, const char *command)
{
	FILE *f = s->out;
	if (s->lines && (s->env_f = open_memstream(&s->env_buf, &s->env_len)))
		f = s->env_f;
	json_init(&s->j, f, s->pretty && !s->lines);
	json_obj_begin(&s->j);
	json_ku64(&s->j, "schema_version", JSON_SCHEMA_VERSION);
	json_kstr(&s->j, "command", command);
	json_kstr(&s->j, "dump", dump_path(s->T->dump));
}

static void notes_json(struct json *j, const struct notes *n)
{
	for (size_t i = 0; i < n->n; i++)
		json_sentence(j, n->msg[i]);
	if (n->dropped) {
		char buf[64];
		snprintf(buf, sizeof(buf), "%zu more not shown", n->dropped);
		json_sentence(j, buf);
	}
}

/* Reads that found no page set exit bit 2 (src/cli): with nothing else
 * listed, they are said, so the list and the exit status agree. */
static bool session_filtered_only(const struct session *s, char *buf, size_t len)
{
	uint64_t n = s->T ? dump_filtered_reads(s->T->dump) : 0;
	if (!n || s->H.notes.n || s->walk_notes.n)
		return false;
	snprintf(buf, len, "%llu reads found pages the dump does not hold (filtered out, or unreadable)",
		 (unsigned long long)n);
	return true;
}

static void json_doc_end(struct session *s)
{
	char filtered[128];
	json_key(&s->j, "incomplete");
	json_arr_begin(&s->j);
	notes_json(&s->j, &s->H.notes);
	notes_json(&s->j, &s->walk_notes);
	if (session_filtered_only(s, filtered, sizeof(filtered)))
		json_sentence(&s->j, filtered);
	json_arr_end(&s->j);
	json_obj_end(&s->j);
	json_end(&s->j);
	if (s->env_f) { /* --json-lines: the document is the last line */
		fclose(s->env_f);
		s->env_f = NULL;
		fwrite(s->env_buf, 1, s->env_len, s->out);
		free(s->env_buf);
		s->env_buf = NULL;
	}
}

static void notes_text(FILE *f, const struct notes *n)
{
	for (size_t i = 0; i < n->n; i++)
		fprintf(f, "  %s\n", n->msg[i]);
	if (n->dropped)
		fprintf(f, "  (%zu more not shown)\n", n->dropped);
}

void text_notes(struct session *s)
{
	char filtered[128];
	bool only_filtered = session_filtered_only(s, filtered, sizeof(filtered));
	if (s->quiet || (!only_filtered && !s->H.notes.n && !s->walk_notes.n))
		return;
	/* stderr: a pipeline reading the table stays clean */
	fflush(s->out);
	fprintf(stderr, "%sINCOMPLETE: parts of the dump could not be analysed:%s\n",
		sev_color(s, SEV_WARNING), sev_color(s, -1));
	if (only_filtered) {
		fprintf(stderr, "  %s\n", filtered);
		return;
	}
	notes_text(stderr, &s->H.notes);
	notes_text(stderr, &s->walk_notes);
}

void json_spte_bits(struct json *j, const struct spte_bits *b, bool ept)
{
	json_key(j, "bits");
	json_obj_begin(j);
	json_kstr(j, "kind", spte_kind_name(b->kind));
	if (b->kind == SPTE_MMIO) {
		json_ku64(j, "mmio_gfn", b->mmio_gfn);
		json_ku64(j, "mmio_generation", b->mmio_gen);
		json_khex(j, "mmio_access", b->mmio_access);
	}
	if (b->kind != SPTE_PRESENT) {
		json_obj_end(j);
		return;
	}
	json_kbool(j, "leaf", b->leaf);
	json_ku64(j, "pfn", b->pfn);
	json_kbool(j, "present", b->hw_present);
	json_kbool(j, ept ? "readable" : "user", b->readable);
	json_kbool(j, "writable", b->writable);
	json_kbool(j, "executable", b->executable);
	if (b->has_xu)
		json_kbool(j, "user_executable", b->user_executable);
	json_kbool(j, "accessed", b->accessed);
	if (b->leaf)
		json_kbool(j, "dirty", b->dirty);
	json_kbool(j, "huge", b->huge);
	json_kbool(j, "host_writable", b->host_writable);
	json_kbool(j, "mmu_writable", b->mmu_writable);
	json_kbool(j, "access_tracked", b->access_tracked);
	json_kstr(j, "ad_type", spte_ad_type_name(b->ad_type));
	if (b->access_tracked) {
		json_kbool(j, "saved_r", b->saved_r);
		json_kbool(j, "saved_x", b->saved_x);
		if (b->has_xu)
			json_kbool(j, "saved_xu", b->saved_xu);
	}
	if (ept && b->memtype >= 0) {
		json_ku64(j, "memtype", (uint64_t)b->memtype);
		json_kbool(j, "ipat", b->ipat);
	}
	json_obj_end(j);
}

void json_vm(struct json *j, const struct kvm_host *H, const struct kvm_vm *vm)
{
	char id[32];
	snprintf(id, sizeof(id), "%d:%d", vm->pid, vm_nth(H, vm));
	json_kstr(j, "vm", id);
	json_ki64(j, "pid", vm->pid);
	json_khex(j, "kvm", vm->addr);
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

void json_sentence(struct json *j, const char *text)
{
	json_obj_begin(j);
	json_kstr(j, "text", text);
	json_key(j, "values");
	json_arr_begin(j);
	const char *name = text, *p = text;
	while (*p) {
		/* a number starts at a digit not inside a word */
		bool start = is_digit(*p) && (p == text || !(is_hex(p[-1]) || p[-1] == '_' ||
							   (p[-1] >= 'g' && p[-1] <= 'z') ||
							   (p[-1] >= 'G' && p[-1] <= 'Z') || p[-1] == '.'));
		if (!start) {
			if (strchr(",;:()", *p))
				name = p + 1;
			p++;
			continue;
		}
		const char *q = p;
		if (q[0] == '0' && (q[1] == 'x' || q[1] == 'X') && is_hex(q[2]))
			for (q += 2; is_hex(*q); q++)
				;
		else
			while (is_digit(*q))
				q++;
		if (is_hex(*q) || *q == '_' || (*q >= 'g' && *q <= 'z') || (*q >= 'G' && *q <= 'Z')) {
			p = q; /* part of a word, e.g. "4K" */
			continue;
		}
		/* the name: the words since the last number or clause mark,
		 * without the "=" and spaces around them */
		const char *a = name, *b = p;
		while (a < b && strchr(" =]", *a))
			a++;
		while (b > a && strchr(" =[-", b[-1]))
			b--;
		char nm[128], val[32];
		snprintf(nm, sizeof(nm), "%.*s", (int)(b - a), a);
		snprintf(val, sizeof(val), "%.*s", (int)(q - p), p);
		json_obj_begin(j);
		json_kstr(j, "name", nm);
		json_kstr(j, "value", val);
		json_obj_end(j);
		name = p = q;
	}
	json_arr_end(j);
	json_obj_end(j);
}

void session_note_walk(struct session *s, const struct kvm_vm *vm, const struct walk_entry *e)
{
	if (e->event == WALK_ENTRY)
		return;
	s->exit_bits |= EXIT_INCOMPLETE;
	char buf[512];
	walk_event_describe(e, vm->pid, buf, sizeof(buf));
	notes_add(&s->H.notes, "%s", buf);
}

void out_open(struct session *s, const char *command, const char *key, const char *fmt, ...)
{
	if (s->json) {
		json_doc_begin(s, command);
		if (key)
			out_list_open(s, key);
		return;
	}
	if (!fmt)
		return;
	va_list ap;
	va_start(ap, fmt);
	vfprintf(s->out, fmt, ap);
	va_end(ap);
}

void out_list_open(struct session *s, const char *key)
{
	if (!s->json)
		return;
	s->list_open = true;
	if (!s->env_f) {
		json_key(&s->j, key);
		json_arr_begin(&s->j);
		return;
	}
	/* --json-lines: the list's elements go out as they come, one a line,
	 * each saying which list it belongs to; the document waits. */
	if (!s->env && !(s->env = malloc(sizeof(*s->env)))) {
		s->list_open = false;
		return;
	}
	*s->env = s->j;
	json_init(&s->j, s->out, false);
	s->j.lines = true;
	s->j.record = key;
}

void out_list_close(struct session *s)
{
	if (s->json && s->list_open) {
		if (s->env_f) {
			json_flush_out(&s->j);
			if (!s->j.first[0])
				fputc('\n', s->j.f);
			s->j = *s->env;
		} else {
			json_arr_end(&s->j);
		}
	}
	s->list_open = false;
}

void out_close(struct session *s)
{
	out_list_close(s);
	if (s->json)
		json_doc_end(s);
	else
		text_notes(s);
}

void walk_selected_roots(struct session *s, struct walker *w, const struct kvm_vm *vm, walk_fn fn,
			 void *arg, struct walk_stats *st)
{
	for (size_t k = 0; k < vm->nroots; k++) {
		if (!select_root(&s->sel, &vm->roots[k]))
			continue;
		struct err *e = walker_run(w, &s->H.masks, &vm->roots[k], &s->sel.range, fn, arg, st);
		if (e) {
			notes_add_err(&s->walk_notes, e, "walk");
			s->exit_bits |= EXIT_INCOMPLETE;
		}
	}
}

const char *vm_label(const struct kvm_host *H, const struct kvm_vm *vm)
{
	static char buf[32];
	snprintf(buf, sizeof(buf), "%d:%d", vm->pid, vm_nth(H, vm));
	return buf;
}

void size_units(uint64_t bytes, char *buf, size_t len)
{
	/* the largest unit that divides it exactly: sizes are never rounded */
	static const char unit[] = "BKMGTPE";
	int u = 0;
	while (bytes && !(bytes & 1023) && u < 6) {
		bytes >>= 10;
		u++;
	}
	snprintf(buf, len, "%" PRIu64 "%c", bytes, unit[u]);
}

const char *sev_color(const struct session *s, int sev)
{
	if (!s->color)
		return "";
	switch (sev) {
	case SEV_ERROR: return "\033[1;31m";
	case SEV_WARNING: return "\033[1;33m";
	case SEV_INFO: return "\033[36m";
	default: return "\033[0m";
	}
}
