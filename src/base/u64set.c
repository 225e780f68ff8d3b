#include "base/u64set.h"

#include <stdlib.h>
#include <string.h>

#define U64SET_MIN_CAP 256

static size_t slot_of(const struct u64set *s, uint64_t key)
{
	return (size_t)((key * 0x9e3779b97f4a7c15ull) >> s->shift);
}

static int grow(struct u64set *s)
{
	size_t ncap = s->cap ? s->cap * 2 : U64SET_MIN_CAP;
	uint64_t *ns = calloc(ncap, sizeof(*ns));
	if (!ns)
		return -1;
	struct u64set t = { ns, ncap, 0, 64 - (unsigned)__builtin_ctzll(ncap), s->has_zero };
	for (size_t i = 0; i < s->cap; i++) {
		if (!s->slot[i])
			continue;
		size_t h = slot_of(&t, s->slot[i]);
		while (ns[h])
			h = (h + 1) & (ncap - 1);
		ns[h] = s->slot[i];
	}
	t.n = s->n;
	free(s->slot);
	*s = t;
	return 0;
}

int u64set_add(struct u64set *s, uint64_t key)
{
	if (!key) {
		if (s->has_zero)
			return 0;
		s->has_zero = true;
		s->n++;
		return 1;
	}
	/* at most half full: probes stay short */
	if ((s->n + 1) * 2 > s->cap && grow(s) < 0)
		return -1;
	size_t h = slot_of(s, key);
	while (s->slot[h]) {
		if (s->slot[h] == key)
			return 0;
		h = (h + 1) & (s->cap - 1);
	}
	s->slot[h] = key;
	s->n++;
	return 1;
}

bool u64set_has(const struct u64set *s, uint64_t key)
{
	if (!key)
		return s->has_zero;
	if (!s->cap)
		return false;
	size_t h = slot_of(s, key);
	while (s->slot[h]) {
		if (s->slot[h] == key)
			return true;
		h = (h + 1) & (s->cap - 1);
	}
	return false;
}

size_t u64set_count(const struct u64set *s)
{
	return s->n;
}

void u64set_clear(struct u64set *s)
{
	if (s->cap)
		memset(s->slot, 0, s->cap * sizeof(*s->slot));
	s->n = 0;
	s->has_zero = false;
}

void u64set_fini(struct u64set *s)
{
	free(s->slot);
	memset(s, 0, sizeof(*s));
}
