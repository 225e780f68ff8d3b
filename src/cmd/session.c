#include "cmd/session.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

const char *vm_mode_name(int mode)
{
	static const char *const names[] = { "outside-guest", "in-guest", "exiting-guest",
					     "reading-shadow-page-tables" };
	return mode >= 0 && mode < 4 ? names[mode] : "unknown";
}

static void json_doc_begin(struct session *s, const char *command)
{
	json_init(&s->j, s->out, s->pretty);
	json_obj_begin(&s->j);
	json_ku64(&s->j, "schema_version", JSON_SCHEMA_VERSION);
	json_kstr(&s->j, "command", command);
	json_kstr(&s->j, "dump", dump_path(s->T->dump));
}

static void notes_json(struct json *j, const struct notes *n)
{
	for (size_t i = 0; i < n->n; i++)
		json_str(j, n->msg[i]);
	if (n->dropped) {
		char buf[64];
		snprintf(buf, sizeof(buf), "%zu more not shown", n->dropped);
		json_str(j, buf);
	}
}

static void json_doc_end(struct session *s)
{
	json_key(&s->j, "incomplete");
	json_arr_begin(&s->j);
	notes_json(&s->j, &s->H.notes);
	notes_json(&s->j, &s->walk_notes);
	json_arr_end(&s->j);
	json_obj_end(&s->j);
	json_end(&s->j);
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
	if (!s->H.notes.n && !s->walk_notes.n)
		return;
	fprintf(s->out, "\nINCOMPLETE: parts of the dump could not be analysed:\n");
	notes_text(s->out, &s->H.notes);
	notes_text(s->out, &s->walk_notes);
}

void json_spte_bits(struct json *j, const struct spte_bits *b, bool ept)
{
	json_kstr(j, "kind", spte_kind_name(b->kind));
	if (b->kind == SPTE_MMIO) {
		json_ku64(j, "mmio_gfn", b->mmio_gfn);
		json_ku64(j, "mmio_generation", b->mmio_gen);
		json_khex(j, "mmio_access", b->mmio_access);
		return;
	}
	if (b->kind != SPTE_PRESENT)
		return;
	json_kbool(j, "leaf", b->leaf);
	json_ku64(j, "pfn", b->pfn);
	json_kbool(j, "present", b->hw_present);
	json_kbool(j, ept ? "readable" : "user", b->readable);
	json_kbool(j, "writable", b->writable);
	json_kbool(j, "executable", b->executable);
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
	}
	if (ept && b->memtype >= 0) {
		json_ku64(j, "memtype", (uint64_t)b->memtype);
		json_kbool(j, "ipat", b->ipat);
	}
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
	json_key(&s->j, key);
	json_arr_begin(&s->j);
	s->list_open = true;
}

void out_list_close(struct session *s)
{
	if (s->json && s->list_open)
		json_arr_end(&s->j);
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
