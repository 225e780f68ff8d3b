/* books_slot_near (the memslot of gfn after gfn, the last answer kept)
 * gives books_slot's answer for every gfn in every order asked: slots of
 * two address spaces, gaps, a slot right after another, and the overlaps
 * of a damaged dump (two slots holding one gfn: the search's pick, the last
 * one starting at or below it, whatever was kept before).  TAP output. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "kobj/books.h"
#include "tap.h"

static const struct kvm_memslot slots[] = { /* sorted by (as_id, base_gfn) */
	{ .as_id = 0, .id = 0, .base_gfn = 0x0, .npages = 0xa0 },
	{ .as_id = 0, .id = 1, .base_gfn = 0xc0, .npages = 0x40 },
	{ .as_id = 0, .id = 2, .base_gfn = 0x100, .npages = 0x100 },	/* right after */
	{ .as_id = 0, .id = 3, .base_gfn = 0x180, .npages = 0x20 },	/* inside slot 2 */
	{ .as_id = 0, .id = 4, .base_gfn = 0x180, .npages = 0x10 },	/* same base */
	{ .as_id = 0, .id = 5, .base_gfn = 0x400, .npages = 0x1 },
	{ .as_id = 1, .id = 0, .base_gfn = 0x0, .npages = 0x100 },	/* SMM */
	{ .as_id = 1, .id = 1, .base_gfn = 0x100, .npages = 0x100 },
};
#define NSLOTS (sizeof(slots) / sizeof(slots[0]))
#define GFN_END 0x500

int main(void)
{
	struct kvm_vm vm = { .nslots = NSLOTS };
	struct vm_books b = { .vm = &vm, .slots = (struct kvm_memslot *)slots };
	const struct kvm_memslot *hint = NULL;
	unsigned bad_up = 0, bad_down = 0, bad_random = 0, asked = 0, found = 0;
	for (int as = 0; as <= 2; as++) {
		hint = NULL;
		for (uint64_t g = 0; g < GFN_END; g++, asked++) {
			const struct kvm_memslot *want = books_slot(&b, as, g);
			found += want != NULL;
			bad_up += books_slot_near(&b, as, g, &hint) != want;
		}
		for (uint64_t g = GFN_END; g-- > 0;)
			bad_down += books_slot_near(&b, as, g, &hint) != books_slot(&b, as, g);
	}
	/* any order, the address spaces mixed: the hint from another slot */
	srand(1);
	for (int k = 0; k < 100000; k++) {
		int as = rand() % 3;
		uint64_t g = (uint64_t)rand() % GFN_END;
		bad_random += books_slot_near(&b, as, g, &hint) != books_slot(&b, as, g);
	}
	CHECK("gfns asked upward in each address space", bad_up == 0);
	CHECK("gfns asked downward", bad_down == 0);
	CHECK("gfns asked at random, address spaces mixed", bad_random == 0);
	/* the overlap goes to the last slot starting at or below the gfn */
	hint = &slots[2];
	CHECK("overlap: gfn 0x185 is slot 4's though slot 2 holds it",
	      books_slot_near(&b, 0, 0x185, &hint) == &slots[4]);
	hint = &slots[4];
	CHECK("past slot 4's end the search gives no slot (slot 3 starts at 0x180 too, "
	      "slot 4 is the last at or below)", books_slot_near(&b, 0, 0x195, &hint) == NULL &&
	      hint == &slots[4]);
	CHECK("gfns without a slot exist on this layout", found < asked && found > 0);
	return tap_done();
}
