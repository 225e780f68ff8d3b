/* The checks: KVM's SPTEs judged against KVM's own books (memslots, dirty
 * bitmaps and rings, the roots' roles, the VMM's page tables).  Each check has
 * a stable id, a severity and a paragraph of documentation; findings stream to
 * a callback with the evidence a triager needs to verify them by hand. */
#ifndef CHECK_CHECK_H
#define CHECK_CHECK_H

#include <stdbool.h>
#include <stdint.h>

#include "check/dirty.h"
#include "kobj/kvm.h"
#include "mmu/spte.h"
#include "mmu/walk.h"

enum severity { SEV_INFO, SEV_WARNING, SEV_ERROR };

enum check_id {
	CHK_S1, CHK_S2, CHK_S3, CHK_S4, CHK_S5, CHK_S6, CHK_S7, CHK_S8, CHK_S9, CHK_S10, CHK_S11,
	CHK_S12, CHK_S13, CHK_S14, CHK_S15, CHK_S16, CHK_S17, CHK_S18, CHK_S19, CHK_D1, CHK_D2, CHK_D3, CHK_D4, CHK_D5, CHK_D6, CHK_D7, CHK_H1,
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
	/* What `check` looks at (--vm, --root, --gfn-range): VMs by struct kvm
	 * (nonzero) or pid (>= 0; -1 every VM), one root (0: all), and the gfns
	 * whose SPTEs are walked.  VM-level findings stay while the VM does. */
	uint64_t vm_kvm;
	int vm_pid;
	uint64_t root;
	struct walk_range range;
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

/* A look at the check walk, for a caller that would otherwise walk the same
 * tree again (summary: one pass).  ENTRY sees every walk entry and event of
 * every root of every VM (whole gfn range), before it is judged; ROOT_DONE
 * follows each root's walk with its statistics and walker_run's error (NULL
 * if none; the message, the error stays check_run's).  A VM whose books
 * cannot be read is still walked for the tap. */
struct check_tap {
	void (*entry)(void *arg, const struct kvm_vm *vm, const struct walk_entry *e);
	void (*root_done)(void *arg, const struct kvm_vm *vm, const struct kvm_root *root,
			  const struct walk_stats *ws, const char *error);
	void *arg;
};

/* check_run with TAP (NULL: none).  An error return means nothing was walked. */
struct err *check_run_tap(struct target *T, struct kvm_host *H, const struct check_opts *o,
			  finding_fn fn, void *arg, struct check_stats *stats,
			  const struct check_tap *tap);

/* One VM's books (live dirty bitmaps, pending dirty-ring entries, the VMM's
 * page tables) for callers above the checks, judged as the checks judge. */
struct check_vm_books;

struct check_host_page {
	bool present, writable;
	int level;		/* 1 = 4K PTE, 2 = 2M PMD, 3 = 1G PUD */
	uint64_t pfn;		/* of the 4K page at the hva */
	uint64_t entry, entry_pa;	/* the host entry that maps it */
};

struct err *check_vm_books_open(struct target *T, const struct kvm_host *H, const struct kvm_vm *vm,
				struct notes *notes, struct check_vm_books **out);
/* The verdict on the leaf BT at GFN of address space AS_ID; DIRTY_OFF
 * outside every memslot. */
enum dirty_verdict check_vm_books_verdict(const struct check_vm_books *d, int as_id, uint64_t gfn,
					  const struct spte_bits *bt);
/* PML dirty logging is in use on this host. */
bool check_vm_books_pml(const struct check_vm_books *d);
/* The VMM's own mapping of HVA (through kvm->mm). */
struct err *check_vm_books_host(struct check_vm_books *d, uint64_t hva, struct check_host_page *out);
void check_vm_books_close(struct check_vm_books *d);

#endif
