#include "dump/vmcoreinfo.h"

#include <stdlib.h>
#include <string.h>

void vmcoreinfo_parse(struct vmcoreinfo *v, char *raw)
{
	memset(v, 0, sizeof(*v));
	v->raw = raw;
	size_t cap = 0;
	for (char *line = raw, *next; line && *line && v->n < VMCOREINFO_MAX_LINES; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		char *eq = strchr(line, '=');
		if (!eq)
			continue;
		*eq = '\0';
		if (v->n == cap) {
			size_t ncap = cap ? cap * 2 : 128;
			void *p = realloc(v->lines, ncap * sizeof(*v->lines));
			if (!p)
				return;
			v->lines = p;
			cap = ncap;
		}
		v->lines[v->n++] = (struct vmcoreinfo_line){ line, eq + 1 };
	}
}

const char *vmcoreinfo_get(const struct vmcoreinfo *v, const char *key)
{
	for (size_t i = 0; i < v->n; i++)
		if (!strcmp(v->lines[i].key, key))
			return v->lines[i].value;
	return NULL;
}

void vmcoreinfo_fini(struct vmcoreinfo *v)
{
	free(v->lines);
	free(v->raw);
	memset(v, 0, sizeof(*v));
}
