/* A set of u64 keys (open addressing, Fibonacci hashing): the tables a walk
 * has reached, the gfns pending in dirty rings.  Any key, 0 included. */
#ifndef BASE_U64SET_H
#define BASE_U64SET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct u64set {
	uint64_t *slot;		/* 0 marks an empty slot */
	size_t cap, n;		/* cap a power of two, or 0 */
	unsigned shift;		/* 64 - log2(cap) */
	bool has_zero;		/* key 0 lives here, not in a slot */
};

/* 1 if KEY was added, 0 if it was there, -1 on ENOMEM (the set unchanged). */
int u64set_add(struct u64set *s, uint64_t key);
bool u64set_has(const struct u64set *s, uint64_t key);
/* Number of keys. */
size_t u64set_count(const struct u64set *s);
/* Empty, memory kept. */
void u64set_clear(struct u64set *s);
void u64set_fini(struct u64set *s);

#endif
