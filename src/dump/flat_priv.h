/* Inside src/dump: flat.c's side of flat_pread.c. */
#ifndef DUMP_FLAT_PRIV_H
#define DUMP_FLAT_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct flat_map;

/* pread(2) itself, whatever the process's pread is. */
ssize_t flat_sys_pread(int fd, void *buf, size_t len, off_t off);
/* From now on pread(2) on FD reads M (false: no free slot). */
bool flat_register(int fd, const struct flat_map *m);
void flat_unregister(int fd);

#endif
