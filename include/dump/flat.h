/* makedumpfile's flattened (streamable) format, as QEMU and `virsh dump`
 * write it: records of (offset, size, bytes) that `makedumpfile -R` would
 * write into place.  We read it in place instead: a map from each range of
 * the rearranged file to the bytes in the flattened one.
 *
 * libkdumpfile 0.5.1 reads a dump only through pread(2) on the descriptor
 * it is given (we keep its mmap off); flat_map_expose gives it a descriptor
 * whose reads flat_pread.c answers from the map.  Native support came with
 * libkdumpfile 0.5.3; Debian 12 ships 0.5.1. */
#ifndef DUMP_FLAT_H
#define DUMP_FLAT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/err.h"

struct flat_map;

/* True if FD starts with the flattened-format header. */
bool flat_detect(int fd);

/* Index flattened FD (WHAT names it in errors): every record checked, a
 * later record winning where two overlap, as makedumpfile -R has it. */
struct err *flat_map_build(int fd, const char *what, struct flat_map **out);
void flat_map_free(struct flat_map *m);
/* The size of the rearranged file. */
uint64_t flat_map_size(const struct flat_map *m);
/* pread(2) of the rearranged file: holes read as zeros, as in a sparse
 * file; short at its end; -1 with errno on a read error. */
ssize_t flat_map_pread(const struct flat_map *m, void *buf, size_t len, uint64_t off);

/* A descriptor that stands for the rearranged file: pread(2) on it is
 * answered from M until flat_map_unexpose.  It is a pipe with no writer:
 * anything else on it fails or sees end of file, never other bytes. */
struct err *flat_map_expose(struct flat_map *m, const char *what, int *out_fd);
void flat_map_unexpose(int fd);

/* The rearranged file written out: into a private, unlinked temporary
 * (*OUT_FD), for patching damaged descriptors. */
struct err *flat_map_write(const struct flat_map *m, const char *what, int *out_fd);
/* A private, unlinked copy of FD (same temporary place), for patching. */
struct err *flat_copy(int fd, const char *what, int *out_fd);

#endif
