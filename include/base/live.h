/* What the live-consistency machinery did on a live target, counted by the
 * layer doing it (the dump's own stable reads: dump_live_stats()); printed at
 * the end of a live run.  One per target (struct target's `live`). */
#ifndef BASE_LIVE_H
#define BASE_LIVE_H

#include <stdint.h>

struct live_stats {
	uint64_t reads_retried;		/* object reads whose first two copies differed */
	uint64_t reads_changed;		/* ... that never settled (ERR_CHANGED) */
	uint64_t entries_reread;	/* page-table entries that differed between two reads */
	uint64_t objects_retried;	/* VMs, lists re-walked because they changed */
	uint64_t objects_changed;	/* ... reported as changed under us */
	uint64_t findings_rechecked;	/* findings re-read before being reported */
	uint64_t findings_reevaluated;	/* ... whose SPTE or evidence had changed */
	uint64_t findings_changed;	/* ... reported as inconclusive: changed while reading */
};

#endif
