/* Growing arrays that know only their length: the capacity is implied (0,
 * then 4, 8, 16, ...), so appending N elements costs O(N) copies, not
 * O(N^2) as one realloc per element does. */
#ifndef BASE_ARRAY_H
#define BASE_ARRAY_H

#include <stddef.h>

/* ARR (of N elements of ELEM bytes, allocated by this function or NULL)
 * with room for element N: ARR itself, a reallocated ARR, or NULL when out
 * of memory (ARR untouched). */
void *array_room(void *arr, size_t n, size_t elem);

#endif
