/* The JSON writer's strings (schema 2): valid UTF-8 goes through as it is,
 * each byte that is not part of valid UTF-8 becomes \udcXX, controls and
 * quotes are escaped; and JSON Lines puts each top-level record on its own
 * line, "record" first. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"

static int n, failed;

static void check(const char *name, const char *got, const char *want)
{
	n++;
	if (!strcmp(got, want)) {
		printf("ok %d - %s\n", n, name);
	} else {
		failed++;
		printf("not ok %d - %s\n#   got  %s\n#   want %s\n", n, name, got, want);
	}
}

static char *str_json(const char *s)
{
	static struct json j;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	json_init(&j, f, false);
	json_str(&j, s);
	json_end(&j);
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return buf;
}

#define CASE(name, in, want)                       \
	do {                                        \
		char *got = str_json(in);           \
		check(name, got, want);             \
		free(got);                          \
	} while (0)

int main(void)
{
	CASE("ASCII as it is", "qemu-kvm", "\"qemu-kvm\"");
	CASE("quote, backslash, control escaped", "a\"b\\c\x01", "\"a\\\"b\\\\c\\u0001\"");
	CASE("valid 2-, 3- and 4-byte UTF-8 as it is", "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80",
	     "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"");
	CASE("a stray byte: \\udcXX", "a\xff" "b", "\"a\\udcffb\"");
	CASE("a lone continuation byte", "\x80", "\"\\udc80\"");
	CASE("an overlong form: every byte escaped", "\xc0\xaf", "\"\\udcc0\\udcaf\"");
	CASE("an encoded surrogate: every byte escaped", "\xed\xa0\x80",
	     "\"\\udced\\udca0\\udc80\"");
	CASE("above U+10FFFF: every byte escaped", "\xf4\x90\x80\x80",
	     "\"\\udcf4\\udc90\\udc80\\udc80\"");
	CASE("a sequence cut by the end of the string", "x\xe2\x82", "\"x\\udce2\\udc82\"");
	CASE("a sequence cut by an ASCII byte", "\xe2" "A", "\"\\udce2A\"");

	/* JSON Lines: records one a line, each starting with "record" */
	struct json *j = malloc(sizeof(*j));
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	json_init(j, f, false);
	j->lines = true;
	j->record = "sptes";
	for (int i = 0; i < 2; i++) {
		json_obj_begin(j);
		json_ku64(j, "gfn", (uint64_t)i);
		json_obj_end(j);
	}
	json_end(j);
	fclose(f);
	check("JSON Lines: one record a line, \"record\" first", buf,
	      "{\"record\":\"sptes\",\"gfn\":0}\n{\"record\":\"sptes\",\"gfn\":1}\n");
	free(buf);
	free(j);
	printf("1..%d\n", n);
	return failed != 0;
}
