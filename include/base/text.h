/* Appending to fixed-size text buffers (evidence, notes): never past the end. */
#ifndef BASE_TEXT_H
#define BASE_TEXT_H

#include <stddef.h>

/* printf FMT at the end of the NUL-terminated BUF of LEN bytes, truncating. */
void text_append(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
