#include "base/array.h"

#include <stdint.h>
#include <stdlib.h>

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
