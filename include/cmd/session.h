/* What every command works on: the opened target, KVM's objects in it, the
 * user's selection and output mode, and the exit bits gathered on the way. */
#ifndef OUT_SESSION_H
#define OUT_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "check/check.h"
#include "kobj/kvm.h"
#include "mmu/walk.h"
#include "base/json.h"

#define JSON_SCHEMA_VERSION 1

/* Exit status bits, fsck style (documented in the man page). */
enum {
	EXIT_FINDINGS = 1,
	EXIT_INCOMPLETE = 2,
	EXIT_FATAL = 4,
	EXIT_USAGE = 8,
};

/* A bit-state filter such as "W=1,D=0": each named bit must match. */
enum spte_bit {
	BIT_P, BIT_R, BIT_W, BIT_X, BIT_A, BIT_D, BIT_PS, BIT_HW, BIT_MW, BIT_AT, BIT_LEAF, BIT_COUNT
};

struct bit_filter {
	uint32_t care, want;	/* bitmask over enum spte_bit */
};

struct select {
	int vm_pid;			/* -1: every VM */
	uint64_t root;			/* 0: every root */
	struct walk_range range;	/* gfn range */
	int level;			/* 0: every level */
	struct bit_filter bits;
};

struct session {
	struct target *T;
	struct kvm_host H;
	struct select sel;
	struct check_opts copts;
	bool json, pretty;
	FILE *out;
	struct json j;
	int exit_bits;
	struct notes walk_notes;	/* unreadable tables and the like */
	const struct target_opts *topts;	/* how T was opened: extract, diff open again */
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
struct err *cmd_pids(struct session *s, int argc, char **argv);
struct err *cmd_vtop(struct session *s, int argc, char **argv);
struct err *cmd_offset(struct session *s, int argc, char **argv);
struct err *cmd_rd64(struct session *s, int argc, char **argv);
struct err *cmd_check(struct session *s, int argc, char **argv);
struct err *cmd_dis(struct session *s, int argc, char **argv);
struct err *cmd_list_checks(struct session *s);
struct err *cmd_extract(struct session *s, int argc, char **argv);	/* cmd/extract.c */
struct err *cmd_diff(struct session *s, int argc, char **argv);	/* cmd/diff.c */
/* On an extract: its record for `info`, and its incomplete parts as notes. */
void extract_info(struct session *s);
void extract_notes(struct target *T, struct notes *notes);
void finding_json(struct json *j, const struct finding *f, bool ept);
void check_exit_bits(struct session *s, const struct check_stats *st);
void check_counts_text(struct session *s, const struct check_stats *st);
void check_counts_json(struct json *j, const struct check_stats *st);

struct err *bit_filter_parse(const char *spec, struct bit_filter *f);
bool bit_filter_match(const struct bit_filter *f, const struct spte_bits *b);
bool select_vm(const struct session *s, const struct kvm_vm *vm);
bool select_root(const struct session *s, const struct kvm_root *r);
const char *vm_mode_name(int mode);

/* Shared text/JSON pieces. */
void json_doc_begin(struct session *s, const char *command);
void json_doc_end(struct session *s);	/* writes "incomplete" notes, closes */
void text_notes(struct session *s);
void json_spte_bits(struct json *j, const struct spte_bits *b, bool ept);
void session_note_walk(struct session *s, const struct kvm_vm *vm, const struct walk_entry *e);

#endif
