/* Growing arrays that know only their length: the capacity is implied (0,
 * then 4, 8, 16, ...), so appending N elements costs O(N) copies, not
 * O(N^2) as one realloc per element does. */
#ifndef BASE_ARRAY_H
#define BASE_ARRAY_H

#include <stddef.h>
#include <stdint.h>

/* ARR (of N elements of ELEM bytes, allocated by this function or NULL)
 * with room for element N: ARR itself, a reallocated ARR, or NULL when out
 * of memory (ARR untouched). */
void *array_room(void *arr, size_t n, size_t elem);

/* Binary search: the index of the first of the N elements of ELEM bytes at
 * ARR (sorted ascending by the uint64_t at byte KEY_OFF of each) whose key
 * is not below KEY; N when there is none. */
size_t array_lower_bound(const void *arr, size_t n, size_t elem, size_t key_off, uint64_t key);
/* The same for an array of structs sorted by their uint64_t MEMBER. */
#define ARRAY_LOWER_BOUND(arr, n, member, key) \
	array_lower_bound((arr), (n), sizeof(*(arr)), offsetof(__typeof__(*(arr)), member), (key))

#endif
