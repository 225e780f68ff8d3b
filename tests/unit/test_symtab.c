/* The symbol table on constructed names: the name hash sees every byte of
 * a name whatever its length and alignment, a name's first definition wins,
 * names beyond a reservation still go in, and the address index is built
 * on the first symbolize (not sorted when the table is in address order
 * already) and again after the table changes. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "symtab/symtab.h"
#include "tap.h"

/* Names of LEN bytes differing in one byte: 26 different hashes at every
 * position?  Returns the number of positions where two collide. */
static unsigned hash_blind_spots(size_t len)
{
	unsigned bad = 0;
	for (size_t p = 0; p < len; p++) {
		uint32_t h[26];
		char s[64];
		for (size_t i = 0; i < len; i++)
			s[i] = (char)('A' + (i * 7) % 26);
		for (int c = 0; c < 26; c++) {
			s[p] = (char)('a' + c);
			h[c] = symtab_hash(s, len);
			for (int k = 0; k < c; k++)
				bad += h[k] == h[c];
		}
	}
	return bad;
}

int main(void)
{
	unsigned blind = 0;
	for (size_t len = 1; len <= 40; len++)
		blind += hash_blind_spots(len);
	CHECK("every byte of a 1..40-byte name changes its hash", blind == 0);

	char buf[64];
	uint32_t h0 = symtab_hash("kvm_mmu_page_fault", 18);
	unsigned moved = 0;
	for (size_t a = 0; a < 8; a++) {
		memcpy(buf + a, "kvm_mmu_page_fault", 18);
		moved += symtab_hash(buf + a, 18) != h0;
	}
	CHECK("the hash does not depend on alignment", moved == 0);
	CHECK("a name and its prefix hash apart",
	      symtab_hash("kvm_mmu_page_fault", 18) != symtab_hash("kvm_mmu_page_faul", 17));

	struct symtab t;
	uint64_t a = 0, off = 0;
	CHECK("init", !symtab_init(&t, "test"));
	CHECK("reserve", !symtab_reserve(&t, 4, 8));
	CHECK("add foo", !symtab_add(&t, "foo", 3, 0x1000, 'T'));
	CHECK("add bar", !symtab_add(&t, "bar", 3, 0x2000, 't'));
	CHECK("add foo again", !symtab_add(&t, "foo", 3, 0x3000, 'd'));
	CHECK("not found before symtab_finish", !symtab_lookup(&t, "foo", &a));
	CHECK("no symbolize before symtab_finish", !symtab_symbolize(&t, 0x2000, &off));
	/* past the reservation: 3000 names of 1..40 bytes, each its own address */
	char name[64];
	unsigned added = 0;
	for (unsigned i = 0; i < 3000; i++) {
		size_t len = 1 + i % 40;
		for (size_t k = 0; k < len; k++)
			name[k] = (char)('a' + (i / 40 + k * 3) % 26);
		snprintf(name + (len > 4 ? len - 4 : 0), 5, "%04u", i);
		len = strlen(name);
		added += !symtab_add(&t, name, len, 0x100000 + 16 * (uint64_t)i, 't');
	}
	CHECK("3000 names beyond the reservation added", added == 3000 && t.n == 3003);
	CHECK("finish", !symtab_finish(&t));
	CHECK("the first definition of foo wins", symtab_lookup(&t, "foo", &a) && a == 0x1000);
	CHECK("bar", symtab_lookup(&t, "bar", &a) && a == 0x2000);
	CHECK("a prefix of a name is not found", !symtab_lookup(&t, "fo", &a));
	CHECK("a name plus a byte is not found", !symtab_lookup(&t, "fooo", &a));
	CHECK("the empty name is not found", !symtab_lookup(&t, "", &a));
	unsigned found = 0;
	for (size_t i = 3; i < t.n; i++)
		found += symtab_lookup(&t, symtab_name(&t, i), &a) && a == t.addr[i];
	CHECK("every generated name at its address", found == 3000);

	const char *s = symtab_symbolize(&t, 0x2005, &off);
	CHECK("symbolize inside bar", s && !strcmp(s, "bar") && off == 5);
	s = symtab_symbolize(&t, 0x3000, &off);
	CHECK("symbolize the second foo", s == symtab_name(&t, 2) && off == 0);
	CHECK("nothing below the lowest address", !symtab_symbolize(&t, 0xfff, &off));
	s = symtab_symbolize(&t, 0x100000 + 16 * 2999 + 7, &off);
	CHECK("symbolize past the last symbol", s == symtab_name(&t, 3002) && off == 7);

	/* a symbol added after the index was built: the next finish rebuilds it */
	CHECK("add baz", !symtab_add(&t, "baz", 3, 0x2800, 'T'));
	CHECK("finish again", !symtab_finish(&t));
	s = symtab_symbolize(&t, 0x2900, &off);
	CHECK("symbolize sees baz", s && !strcmp(s, "baz") && off == 0x100);
	CHECK("baz is found", symtab_lookup(&t, "baz", &a) && a == 0x2800);
	CHECK("foo still resolves to its first definition", symtab_lookup(&t, "foo", &a) && a == 0x1000);
	symtab_fini(&t);

	/* aliases (one address, two names): the later one, whether the table
	 * came in address order (kallsyms) or not (a module's) */
	for (int unsorted = 0; unsorted < 2; unsorted++) {
		struct symtab al;
		symtab_init(&al, "aliases");
		if (unsorted)
			symtab_add(&al, "high", 4, 0x9000, 't');
		symtab_add(&al, "low", 3, 0x1000, 't');
		symtab_add(&al, "alias_a", 7, 0x5000, 't');
		symtab_add(&al, "alias_b", 7, 0x5000, 't');
		if (!unsorted)
			symtab_add(&al, "high", 4, 0x9000, 't');
		symtab_finish(&al);
		s = symtab_symbolize(&al, 0x5010, &off);
		CHECK(unsorted ? "aliases out of address order: the later one"
			       : "aliases in address order: the later one",
		      s && !strcmp(s, "alias_b") && off == 0x10);
		s = symtab_symbolize(&al, 0x9000, &off);
		CHECK(unsorted ? "out of address order: the highest" : "in address order: the highest",
		      s && !strcmp(s, "high") && off == 0);
		symtab_fini(&al);
	}

	struct symtab e;
	CHECK("an empty table", !symtab_init(&e, "empty") && !symtab_finish(&e));
	CHECK("an empty table finds nothing", !symtab_lookup(&e, "foo", &a));
	CHECK("an empty table symbolizes nothing", !symtab_symbolize(&e, 0x1000, &off));
	symtab_fini(&e);
	return tap_done();
}
