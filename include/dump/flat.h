/* makedumpfile's flattened (streamable) format, as QEMU and `virsh dump`
 * write it.  libkdumpfile 0.5.1 cannot open it, so we rearrange it into an
 * unlinked temporary file, exactly what `makedumpfile -R` does. */
#ifndef DUMP_FLAT_H
#define DUMP_FLAT_H

#include <stdbool.h>

#include "base/err.h"

/* True if FD starts with the flattened-format header. */
bool flat_detect(int fd);
/* Rebuild the random-access dump from flattened FD into a new unlinked file;
 * *OUT_FD receives it. */
struct err *flat_rearrange(int fd, const char *what, int *out_fd);

/* A private, unlinked copy of FD (same temporary place), for patching. */
struct err *flat_copy(int fd, const char *what, int *out_fd);

#endif
