/* What every command works on: the opened target, KVM's objects in it, the
 * user's selection and output mode, and the exit bits gathered on the way. */
#ifndef CMD_SESSION_H
#define CMD_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "base/json.h"
#include "check/check.h"
#include "cmd/select.h"
#include "kobj/host_load.h"
#include "mmu/walk.h"

#define JSON_SCHEMA_VERSION 2

/* Exit status bits, fsck style (documented in the man page). */
enum {
	EXIT_FINDINGS = 1,
	EXIT_INCOMPLETE = 2,
	EXIT_FATAL = 4,
	EXIT_USAGE = 8,
};

struct session {
	struct target *T;
	struct kvm_host H;
	struct select sel;
	struct check_opts copts;
	bool json, pretty, lines;	/* lines: --json-lines */
	bool color;			/* --color, NO_COLOR and the terminal decided */
	bool dis_att, dis_reverse;	/* dis --att, dis -r */
	FILE *out;
	struct json j;
	/* --json-lines: the document without its lists, kept aside while a list
	 * streams one record per line, and written last. */
	struct json *env;
	FILE *env_f;
	char *env_buf;
	size_t env_len;
	int exit_bits;
	struct notes walk_notes;	/* unreadable tables and the like */
	bool list_open;		/* out_open's JSON array not yet closed */
	const struct target_opts *topts;	/* how T was opened: extract, diff open again */
	bool quiet;			/* extract's inner runs: no INCOMPLETE trailer */
	bool with_gfn;			/* extract --with-gfn */
	struct walk_range with_gfn_range;
};

typedef struct err *(*cmd_fn)(struct session *s, int argc, char **argv);

struct err *cmd_summary(struct session *s, int argc, char **argv);
struct err *cmd_info(struct session *s, int argc, char **argv);
struct err *cmd_vms(struct session *s, int argc, char **argv);
struct err *cmd_memslots(struct session *s, int argc, char **argv);
struct err *cmd_roots(struct session *s, int argc, char **argv);
struct err *cmd_sptes(struct session *s, int argc, char **argv);
struct err *cmd_gfn(struct session *s, int argc, char **argv);
struct err *cmd_pfn(struct session *s, int argc, char **argv);
struct err *cmd_pids(struct session *s, int argc, char **argv);
struct err *cmd_symbols(struct session *s, int argc, char **argv);
struct err *cmd_vtop(struct session *s, int argc, char **argv);
struct err *cmd_offset(struct session *s, int argc, char **argv);
struct err *cmd_rd64(struct session *s, int argc, char **argv);
struct err *cmd_rmaps(struct session *s, int argc, char **argv);
struct err *cmd_hash(struct session *s, int argc, char **argv);
struct err *cmd_check(struct session *s, int argc, char **argv);
struct err *cmd_dis(struct session *s, int argc, char **argv);
struct err *cmd_list_checks(struct session *s);
struct err *cmd_extract(struct session *s, int argc, char **argv);	/* cmd/extract.c */
struct err *cmd_diff(struct session *s, int argc, char **argv);	/* cmd/diff.c */
/* On an extract: its record for `info`, and its incomplete parts as notes. */
void extract_info(struct session *s);
void extract_notes(struct target *T, struct notes *notes);
void finding_json(struct json *j, const struct kvm_host *H, const struct finding *f);
void check_exit_bits(struct session *s, const struct check_stats *st);
void check_counts_text(struct session *s, const struct check_stats *st);
void check_counts_json(struct json *j, const struct check_stats *st);
/* Run the checks into the open findings list (FN writes each), then close the
 * document with the exit bits and counts; in text PAD goes before the counts
 * when *SHOWN (counted by FN) is not 0. */
struct err *check_listed(struct session *s, const struct check_opts *co, finding_fn fn, void *arg,
			 const uint64_t *shown, const char *pad);

const char *vm_mode_name(int mode);
/* "PTE", "PDE", "PDPTE", "PML4E", "PML5E": a walk's level, as gfn and the
 * browser label it. */
const char *walk_level_name(int level);
/* "PID:N" for text tables (see vm_nth); a static buffer, one call at a time. */
const char *vm_label(const struct kvm_host *H, const struct kvm_vm *vm);
/* BYTES as "8M", "1.5G", "4K": memslot sizes in the tables. */
void size_units(uint64_t bytes, char *buf, size_t len);
/* The escape that starts SEV's color (-1: back to normal), "" without color. */
const char *sev_color(const struct session *s, int sev);

/* The frame every command's output shares. out_open: in JSON the document
 * begins and, when KEY is set, KEY's array opens; in text the table header
 * FMT, when set, is printed. out_list_open opens another array (JSON only);
 * out_list_close closes it (what follows belongs to the document); out_close
 * closes an open array, then writes the "incomplete" notes (JSON) or the
 * INCOMPLETE trailer (text). */
void out_open(struct session *s, const char *command, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void out_list_open(struct session *s, const char *key);	/* JSON only */
void out_list_close(struct session *s);
void out_close(struct session *s);

/* Walk every selected root of VM; a failed walk becomes an incomplete note. */
void walk_selected_roots(struct session *s, struct walker *w, const struct kvm_vm *vm, walk_fn fn,
			 void *arg, struct walk_stats *st);

/* Shared text/JSON pieces. */
void text_notes(struct session *s);
/* "bits": the decoded SPTE, one shape wherever an SPTE is written. */
void json_spte_bits(struct json *j, const struct spte_bits *b, bool ept);
/* "vm" ("PID:N", see vm_nth), "pid" and "kvm": one VM, named the same way
 * wherever a VM is written. */
void json_vm(struct json *j, const struct kvm_host *H, const struct kvm_vm *vm);
/* A sentence of evidence or of what is incomplete, as an object: "text" the
 * sentence, "values" every number in it in order, each {"name": the words
 * before it in its clause, "value": the number as written}. */
void json_sentence(struct json *j, const char *text);
void session_note_walk(struct session *s, const struct kvm_vm *vm, const struct walk_entry *e);

#endif
