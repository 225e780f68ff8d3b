/* The checks: KVM's SPTEs judged against KVM's own books (memslots, dirty
 * bitmaps and rings, the roots' roles, the VMM's page tables).  Each check has
 * a stable id, a severity and a paragraph of documentation; findings stream to
 * a callback with the evidence a triager needs to verify them by hand. */
#ifndef CHECK_CHECK_H
#define CHECK_CHECK_H

#include <stdbool.h>
#include <stdint.h>

#include "kobj/kvm.h"
#include "mmu/spte.h"

enum severity { SEV_INFO, SEV_WARNING, SEV_ERROR };

enum check_id {
	CHK_S1, CHK_S2, CHK_S3, CHK_S4, CHK_S5, CHK_S6, CHK_S7, CHK_S8, CHK_S9, CHK_S10, CHK_S11,
	CHK_S12, CHK_S13, CHK_S14, CHK_D1, CHK_D2, CHK_D3, CHK_D4, CHK_D5, CHK_D6, CHK_D7, CHK_H1,
	CHK_H2, CHK_H3, CHK_H4, CHK_H5, CHK_COUNT
};

struct check_def {
	enum check_id id;
	const char *name;	/* "S1" */
	enum severity severity;
	const char *title;
	const char *doc;
};

extern const struct check_def check_catalog[CHK_COUNT];

struct finding {
	const struct check_def *check;
	enum severity severity;		/* the check's, or lowered for this case */
	bool inconclusive;		/* a quiescence signal covers it */
	const struct kvm_vm *vm;
	const struct kvm_root *root;	/* NULL for VM-level findings */
	bool has_spte;
	int level;
	uint64_t gfn;
	uint64_t spte;
	struct spte_bits bits;
	char message[256];
	char evidence[512];
};

typedef void (*finding_fn)(void *arg, const struct finding *f);

struct check_opts {
	bool enabled[CHK_COUNT];
	enum severity floor;
};

struct check_stats {
	uint64_t findings[3];		/* by severity, at or above the floor */
	uint64_t inconclusive;
	uint64_t leaves, host_checked;
};

const struct check_def *check_by_name(const char *name);
const char *severity_name(enum severity s);
int severity_parse(const char *s);	/* -1 if unknown */
void check_opts_default(struct check_opts *o);

/* Run every enabled check over every VM; notes go to H->notes. */
struct err *check_run(struct target *T, struct kvm_host *H, const struct check_opts *o,
		      finding_fn fn, void *arg, struct check_stats *stats);

/* One VM's dirty-log books (live bitmaps, pending dirty-ring entries) for
 * callers above the checks: whether a gfn's slot is logged and the gfn
 * recorded, judged as D2 judges it. */
struct check_dirty_log;
enum dirty_log_state { DIRTY_LOG_OFF, DIRTY_LOG_RECORDED, DIRTY_LOG_NOT_RECORDED };

struct err *check_dirty_log_open(struct target *T, const struct kvm_vm *vm, struct notes *notes,
				 struct check_dirty_log **out);
/* SLOT (if not NULL) receives the memslot holding GFN, or NULL. */
enum dirty_log_state check_dirty_log_state(const struct check_dirty_log *d, int as_id, uint64_t gfn,
					   const struct kvm_memslot **slot);
void check_dirty_log_close(struct check_dirty_log *d);

#endif
