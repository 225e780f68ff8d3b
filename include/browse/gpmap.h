/* The model behind the browser.  One root's guest-physical space is kept as
 * runs of gfns with one state each (contiguous leaves of equal state merge),
 * built by one streaming walk: memory grows with how varied the space is,
 * not with the number of SPTEs.  SPTE lists of a range are walked again on
 * demand.  The checks run once for the whole dump; their findings are kept
 * compactly, sorted by VM and gfn. */
#ifndef BROWSE_GPMAP_H
#define BROWSE_GPMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "check/check.h"
#include "kobj/kvm.h"
#include "cmd/session.h"

/* Cell states, in the order a cell covering several leaves shows them. */
enum gp_state {
	GP_UNMAPPED, GP_READONLY, GP_NOT_ACCESSED, GP_WRITABLE, GP_LOGGED_RECORDED,
	GP_ACCESS_TRACKED, GP_MMIO, GP_WRITABLE_LOGGED, GP_FINDING, GP_NSTATES
};

/* A finding as the browser keeps it; the text lives in the pool. */
struct gp_finding {
	uint32_t vm;		/* index into H.vms */
	int32_t root;		/* index into vm->roots, -1 for VM-level findings */
	uint64_t gfn;
	uint64_t spte;
	uint8_t check, severity, level;
	bool inconclusive, has_spte;
	uint32_t text;		/* offset of "message\0evidence\0" in the pool */
};

struct gp_findings {
	struct gp_finding *v;
	size_t n;		/* v grows by array_room */
	char *pool;
	size_t pool_len, pool_cap;
	uint64_t dropped;	/* beyond what memory allowed to keep */
	struct check_stats stats;
};

struct gp_run {
	uint64_t gfn, n;
	uint8_t state;
};

struct gpmap {
	const struct kvm_vm *vm;
	size_t root;		/* index into vm->roots */
	struct gp_run *runs;	/* ascending, non-overlapping */
	size_t nruns;		/* runs grows by array_room */
	uint64_t lo, hi;	/* gfn span of the memslots and leaves */
	uint64_t count[GP_NSTATES];	/* leaves by state */
	uint64_t leaves, unreadable;
	bool pml;		/* PML in use: the D bit logs A/D-enabled leaves */
};

/* A leaf of an SPTE list. */
struct gp_leaf {
	uint64_t gfn, spte;	/* gfn: the position in the root's space (L2 under a nested root) */
	uint64_t mem_gfn;	/* the frame mapped (memslots, findings): gfn but under shadow roots */
	uint8_t level, state;
	uint8_t base;		/* the state without findings */
};

/* Called now and then during long walks (entries seen so far). */
typedef void (*gp_progress_fn)(void *arg, uint64_t entries);

const char *gp_state_name(enum gp_state s);
char gp_state_glyph(enum gp_state s);

struct err *gp_findings_build(struct session *s, struct gp_findings *F);
void gp_findings_free(struct gp_findings *F);
/* First finding of VM at or after GFN (F->n if none). */
size_t gp_findings_lower_bound(const struct gp_findings *F, uint32_t vm, uint64_t gfn);
size_t gp_findings_count(const struct gp_findings *F, uint32_t vm);
const char *gp_finding_message(const struct gp_findings *F, const struct gp_finding *f);
const char *gp_finding_evidence(const struct gp_findings *F, const struct gp_finding *f);

struct err *gpmap_build(struct session *s, const struct gp_findings *F, uint32_t vm, size_t root,
			gp_progress_fn progress, void *arg, struct gpmap *m);
void gpmap_free(struct gpmap *m);
/* The state a cell [lo, hi] shows: the highest of its runs'. */
enum gp_state gpmap_cell(const struct gpmap *m, uint64_t lo, uint64_t hi);

/* Leaves (and MMIO SPTEs) of the map's root covering [lo, hi], at most MAX;
 * *TRUNCATED says more were there.  *OUT is malloc'ed. */
struct err *gpmap_list(struct session *s, const struct gp_findings *F, const struct gpmap *m,
		       uint64_t lo, uint64_t hi, size_t max, struct gp_leaf **out, size_t *n,
		       bool *truncated);
/* The VMM's own mapping of HVA, as H1-H5 see it. */
struct err *gpmap_host(struct session *s, const struct gpmap *m, uint64_t hva,
		       struct check_host_page *out);
/* The first gfn whose leaf maps host frame PFN, or UINT64_MAX. */
uint64_t gpmap_find_pfn(struct session *s, const struct gpmap *m, uint64_t pfn);

#endif
