/* The dirty-log judgements over the books' values (D2 in W mode, which the
 * browser also asks for, D3 in D mode with PML, D5's PML count) and the one
 * evidence line both D2 and D3 give for an unrecorded gfn.  They take plain
 * values, so D3 is tested on constructed EPT-format SPTEs (tests/unit/
 * test_pml.c): the fixtures are AMD and cannot produce PML. */
#ifndef CHECK_DIRTY_H
#define CHECK_DIRTY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kobj/books.h"
#include "mmu/spte.h"

/* The dirty log's verdict on one leaf of slot S, as D2 judges it (in
 * order): the slot does not log, not a present entry, write-protected,
 * writable and recorded, writable with the D bit carrying the log (PML in
 * use, A/D type 00: D3's business), writable and not recorded (D2 for a 4K
 * leaf).  RECORDED: the gfn is in the live bitmap or a pending ring entry. */
enum dirty_verdict { DIRTY_OFF, DIRTY_NOT_LEAF, DIRTY_WRPROT, DIRTY_RECORDED, DIRTY_DBIT,
		     DIRTY_MISSED };
enum dirty_verdict check_dirty_verdict(bool pml, const struct kvm_memslot *s,
				       const struct spte_bits *bt, bool recorded);

/* Why GFN of slot S is not in the log: the bitmap word and bit, or the
 * slot's missing bitmap / ring entry. */
void dirty_missed_evidence(const struct vm_books *b, const struct kvm_memslot *s, uint64_t gfn,
			   char *ev, size_t evlen);

enum d3_verdict { D3_NONE, D3_FOUND, D3_INCONCLUSIVE };

/* D3 for one leaf: with PML in use, a 4K leaf of A/D type 00 with D=1 in a
 * logged slot S must have its gfn recorded (bitmap or pending ring entry) or
 * in some vCPU's PML page.  EV receives the evidence (bitmap word, PML
 * pages, the reason for an inconclusive verdict). */
enum d3_verdict d3_judge(const struct vm_books *b, const struct kvm_memslot *s, int level,
			 uint64_t gfn, const struct spte_bits *bt, bool pml, char *ev, size_t evlen);

/* D5's PML half: on 5.12-6.2 PML hosts cpu_dirty_logging_count counts the
 * logged slots.  True with EV filled when the count disagrees with LOGGED. */
bool pml_count_judge(int32_t count, uint64_t at, size_t logged, char *ev, size_t evlen);

#endif
