/* `check` and `--list-checks`: findings with their evidence, and the
 * catalogue they come from. */
#include <inttypes.h>
#include <string.h>

#include "check/check.h"
#include "cmd/session.h"
#include "kobj/shadow.h"

struct err *cmd_list_checks(struct session *s)
{
	if (s->json) {
		json_init(&s->j, s->out, s->pretty);
		json_obj_begin(&s->j);
		json_ku64(&s->j, "schema_version", JSON_SCHEMA_VERSION);
		json_key(&s->j, "checks");
		json_arr_begin(&s->j);
		for (int i = 0; i < CHK_COUNT; i++) {
			json_obj_begin(&s->j);
			json_kstr(&s->j, "id", check_catalog[i].name);
			json_kstr(&s->j, "severity", severity_name(check_catalog[i].severity));
			json_kstr(&s->j, "title", check_catalog[i].title);
			json_kstr(&s->j, "doc", check_catalog[i].doc);
			json_obj_end(&s->j);
		}
		json_arr_end(&s->j);
		json_obj_end(&s->j);
		json_end(&s->j);
		return NULL;
	}
	for (int i = 0; i < CHK_COUNT; i++) {
		const struct check_def *c = &check_catalog[i];
		fprintf(s->out, "%-4s %-8s %s\n", c->name, severity_name(c->severity), c->title);
		/* wrap the paragraph at 76 columns, indented */
		const char *p = c->doc;
		while (*p) {
			size_t n = strlen(p);
			if (n > 70) {
				n = 70;
				while (n > 0 && p[n] != ' ')
					n--;
				if (!n)
					n = 70;
			}
			fprintf(s->out, "       %.*s\n", (int)n, p);
			p += n;
			while (*p == ' ')
				p++;
		}
		fputc('\n', s->out);
	}
	return NULL;
}

struct check_out {
	struct session *s;
	uint64_t shown;
};

static void finding_text(struct session *s, const struct finding *f)
{
	const char *sev = severity_name(f->severity);
	char tag[32];
	snprintf(tag, sizeof(tag), "%s%s", f->inconclusive ? "INCONCLUSIVE-" : "", sev);
	for (char *c = tag; *c; c++)
		if (*c >= 'a' && *c <= 'z')
			*c = (char)(*c - 'a' + 'A');
	fprintf(s->out, "%s%-20s%s %-4s VM %d:%d", sev_color(s, (int)f->severity), tag,
		sev_color(s, -1), f->check->name, f->vm->pid, vm_nth(&s->H, f->vm));
	if (f->has_spte) {
		char flags[96];
		spte_flags_str(&f->bits, s->H.masks.ept, flags, sizeof(flags));
		/* a shadow page no root reaches has findings too (S16-S18) */
		if (f->root)
			fprintf(s->out, "  %s 0x%" PRIx64, f->root->special != ROOT_SP ?
				kvm_root_special_name(f->root->special) : "root", kvm_root_id(f->root));
		else
			fprintf(s->out, "  root -");
		fprintf(s->out, "  gfn 0x%" PRIx64 "  L%d  spte 0x%016" PRIx64 " [%s]", f->gfn, f->level,
			f->spte, flags);
	}
	if (strcmp(f->message, f->check->title))
		fprintf(s->out, "\n     %s: %s", f->check->title, f->message);
	else
		fprintf(s->out, "\n     %s", f->check->title);
	fprintf(s->out, "\n     evidence: %s\n", f->evidence);
}

void finding_json(struct json *j, const struct kvm_host *H, const struct finding *f)
{
	bool ept = H->masks.ept;
	json_obj_begin(j);
	json_kstr(j, "check", f->check->name);
	json_kstr(j, "severity", severity_name(f->severity));
	json_kbool(j, "inconclusive", f->inconclusive);
	json_kstr(j, "title", f->check->title);
	json_vm(j, H, f->vm);
	json_key(j, "root");
	if (f->root)
		json_hex(j, f->root->sp);
	else
		json_null(j);
	if (f->has_spte) {
		json_ku64(j, "gfn", f->gfn);
		json_ki64(j, "level", f->level);
		json_khex(j, "spte", f->spte);
		json_spte_bits(j, &f->bits, ept);
	} else {
		json_kstr(j, "gfn", NULL);
		json_kstr(j, "level", NULL);
		json_kstr(j, "spte", NULL);
		json_kstr(j, "bits", NULL);
	}
	json_kstr(j, "message", f->message);
	json_key(j, "evidence");
	json_sentence(j, f->evidence);
	json_obj_end(j);
}

static void on_finding(void *arg, const struct finding *f)
{
	struct check_out *o = arg;
	struct session *s = o->s;
	o->shown++;
	if (s->json)
		finding_json(&s->j, &s->H, f);
	else
		finding_text(s, f);
}

void check_exit_bits(struct session *s, const struct check_stats *st)
{
	if (st->findings[SEV_INFO] + st->findings[SEV_WARNING] + st->findings[SEV_ERROR])
		s->exit_bits |= EXIT_FINDINGS;
	if (st->inconclusive)
		s->exit_bits |= EXIT_INCOMPLETE;
}

void check_counts_text(struct session *s, const struct check_stats *st)
{
	uint64_t n = st->findings[0] + st->findings[1] + st->findings[2];
	fprintf(s->out, "findings: %" PRIu64 " (%" PRIu64 " error, %" PRIu64 " warning, %" PRIu64
		" info), %" PRIu64 " inconclusive; %" PRIu64 " leaves checked, %" PRIu64
		" against the VMM's page tables\n", n, st->findings[SEV_ERROR], st->findings[SEV_WARNING],
		st->findings[SEV_INFO], st->inconclusive, st->leaves, st->host_checked);
}

void check_counts_json(struct json *j, const struct check_stats *st)
{
	json_key(j, "finding_counts");
	json_obj_begin(j);
	json_ku64(j, "error", st->findings[SEV_ERROR]);
	json_ku64(j, "warning", st->findings[SEV_WARNING]);
	json_ku64(j, "info", st->findings[SEV_INFO]);
	json_ku64(j, "inconclusive", st->inconclusive);
	json_ku64(j, "leaves_checked", st->leaves);
	json_ku64(j, "host_checked", st->host_checked);
	json_obj_end(j);
}

struct err *check_listed(struct session *s, const struct check_opts *co, finding_fn fn, void *arg,
			 const uint64_t *shown, const char *pad)
{
	struct check_stats st;
	memset(&st, 0, sizeof(st));
	struct err *e = check_run(s->T, &s->H, co, fn, arg, &st);
	if (e)
		return e;
	check_exit_bits(s, &st);
	out_list_close(s);
	if (s->json) {
		check_counts_json(&s->j, &st);
	} else {
		if (*shown)
			fputs(pad, s->out);
		check_counts_text(s, &st);
	}
	out_close(s);
	return NULL;
}

struct err *cmd_check(struct session *s, int argc, char **argv)
{
	(void)argv;
	if (argc > 1)
		return err_new(ERR_USAGE, "check takes no arguments (choose checks with --check)");
	struct check_out o = { s, 0 };
	struct check_opts co = s->copts;
	co.vm_kvm = s->sel.vm_kvm;
	co.vm_pid = s->sel.vm_pid;
	co.root = s->sel.root;
	co.range = s->sel.range;
	out_open(s, "check", "findings", NULL);
	return check_listed(s, &co, on_finding, &o, &o.shown, "\n");
}
