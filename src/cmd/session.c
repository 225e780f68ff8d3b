#include "cmd/session.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const bit_names[BIT_COUNT] = { "P", "R", "W", "X", "A", "D", "PS", "HW",
						  "MW", "AT", "leaf" };

struct err *bit_filter_parse(const char *spec, struct bit_filter *f)
{
	char *copy = strdup(spec), *save = NULL;
	if (!copy)
		return err_new(ERR_NOMEM, "out of memory");
	struct err *e = NULL;
	for (char *tok = strtok_r(copy, ",", &save); tok && !e; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		if (!eq || (strcmp(eq + 1, "0") && strcmp(eq + 1, "1"))) {
			e = err_new(ERR_USAGE, "bit filter '%s': expected NAME=0 or NAME=1", tok);
			break;
		}
		*eq = '\0';
		int bit = -1;
		for (int i = 0; i < BIT_COUNT; i++)
			if (!strcasecmp(tok, bit_names[i]))
				bit = i;
		if (!strcasecmp(tok, "U"))
			bit = BIT_R; /* NPT's user bit is KVM's "readable" */
		if (bit < 0) {
			e = err_new(ERR_USAGE, "bit filter: unknown bit '%s' (P R/U W X A D PS HW MW AT leaf)",
				    tok);
			break;
		}
		f->care |= 1u << bit;
		if (eq[1] == '1')
			f->want |= 1u << bit;
		else
			f->want &= ~(1u << bit);
	}
	free(copy);
	/* A/W/D questions are about leaves; tables match only when asked for. */
	if (!e && f->care && !(f->care & (1u << BIT_LEAF))) {
		f->care |= 1u << BIT_LEAF;
		f->want |= 1u << BIT_LEAF;
	}
	return e;
}

bool bit_filter_match(const struct bit_filter *f, const struct spte_bits *b)
{
	if (!f->care)
		return true;
	uint32_t have = (uint32_t)b->hw_present << BIT_P | (uint32_t)b->readable << BIT_R |
			(uint32_t)b->writable << BIT_W | (uint32_t)b->executable << BIT_X |
			(uint32_t)b->accessed << BIT_A | (uint32_t)b->dirty << BIT_D |
			(uint32_t)b->huge << BIT_PS | (uint32_t)b->host_writable << BIT_HW |
			(uint32_t)b->mmu_writable << BIT_MW | (uint32_t)b->access_tracked << BIT_AT |
			(uint32_t)b->leaf << BIT_LEAF;
	return ((have ^ f->want) & f->care) == 0;
}

bool select_vm(const struct session *s, const struct kvm_vm *vm)
{
	return s->sel.vm_pid < 0 || s->sel.vm_pid == vm->pid;
}

bool select_root(const struct session *s, const struct kvm_root *r)
{
	return !s->sel.root || s->sel.root == r->sp;
}

const char *vm_mode_name(int mode)
{
	static const char *const names[] = { "outside-guest", "in-guest", "exiting-guest",
					     "reading-shadow-page-tables" };
	return mode >= 0 && mode < 4 ? names[mode] : "unknown";
}

void json_doc_begin(struct session *s, const char *command)
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

void json_doc_end(struct session *s)
{
	char filtered[128];
	json_key(&s->j, "incomplete");
	json_arr_begin(&s->j);
	notes_json(&s->j, &s->H.notes);
	notes_json(&s->j, &s->walk_notes);
	if (session_filtered_only(s, filtered, sizeof(filtered)))
		json_str(&s->j, filtered);
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
	char filtered[128];
	if (session_filtered_only(s, filtered, sizeof(filtered))) {
		fprintf(s->out, "\nINCOMPLETE: parts of the dump could not be analysed:\n  %s\n", filtered);
		return;
	}
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
