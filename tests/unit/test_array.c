/* array_lower_bound: the first element whose uint64_t key is not below the
 * one sought, over structs sorted by a member that is not the first. */
#include <stddef.h>
#include <stdint.h>

#include "base/array.h"
#include "tap.h"

struct item {
	uint32_t tag;
	uint64_t key;
};

int main(void)
{
	const struct item a[] = { { 1, 10 }, { 2, 20 }, { 3, 20 }, { 4, 20 }, { 5, 40 } };
	size_t n = sizeof(a) / sizeof(a[0]);
	CHECK("below the first key: 0", ARRAY_LOWER_BOUND(a, n, key, 0) == 0);
	CHECK("equal to the first key: 0", ARRAY_LOWER_BOUND(a, n, key, 10) == 0);
	CHECK("between keys: the next one", ARRAY_LOWER_BOUND(a, n, key, 11) == 1);
	CHECK("a repeated key: its first element", ARRAY_LOWER_BOUND(a, n, key, 20) == 1);
	CHECK("just above a repeated key: after it", ARRAY_LOWER_BOUND(a, n, key, 21) == 4);
	CHECK("the last key", ARRAY_LOWER_BOUND(a, n, key, 40) == 4);
	CHECK("above every key: n", ARRAY_LOWER_BOUND(a, n, key, 41) == n);
	CHECK("UINT64_MAX: n", ARRAY_LOWER_BOUND(a, n, key, UINT64_MAX) == n);
	CHECK("empty array: 0", ARRAY_LOWER_BOUND(a, 0, key, 20) == 0);
	CHECK("one element, below: 0", ARRAY_LOWER_BOUND(a + 4, 1, key, 39) == 0);
	CHECK("one element, above: 1", ARRAY_LOWER_BOUND(a + 4, 1, key, 41) == 1);
	return tap_done();
}
