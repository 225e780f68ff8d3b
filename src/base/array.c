#include "base/array.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ARRAY_MIN 4

void *array_room(void *arr, size_t n, size_t elem)
{
	/* Full exactly when N is 0 or a power of two of at least ARRAY_MIN. */
	if (arr && (n < ARRAY_MIN || (n & (n - 1))))
		return arr;
	size_t cap = n < ARRAY_MIN ? ARRAY_MIN : n * 2;
	if (cap > SIZE_MAX / elem)
		return NULL;
	return realloc(arr, cap * elem);
}

size_t array_lower_bound(const void *arr, size_t n, size_t elem, size_t key_off, uint64_t key)
{
	const unsigned char *base = arr;
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		uint64_t k;
		memcpy(&k, base + mid * elem + key_off, sizeof(k));
		if (k < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}
