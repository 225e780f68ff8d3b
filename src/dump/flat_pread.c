/* The process's pread(2): reads of a descriptor flat_map_expose handed out
 * are answered from its flattened dump's map; every other read goes to the
 * kernel unchanged.
 *
 * Why interpose: libkdumpfile 0.5.1 (Debian 12) reads a dump only through
 * pread(2) on the descriptor it was given (its mmap path is off, see
 * kdump.c) and knows nothing of the flattened format, which arrived in
 * 0.5.3.  Defining pread here, in the executable, makes its calls land here
 * (the executable comes first in symbol lookup).  The descriptor is a pipe
 * with no writer, so a read that ever bypassed this gets ESPIPE (pread),
 * ENODEV (mmap) or end of file (read): never other bytes.
 *
 * No <unistd.h>: with _FILE_OFFSET_BITS=64 it redirects pread to pread64,
 * and both names are defined here. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/syscall.h>
#include <sys/types.h>

#include "dump/flat.h"
#include "flat_priv.h"

extern long syscall(long number, ...);

/* A few dumps open at once (diff opens two); slots hold fd + 1 so that the
 * zeroed array is empty.  Lock-free: readers may be on other threads. */
#define FLAT_SLOTS 16
static struct {
	int fd1;
	const struct flat_map *map;
} slots[FLAT_SLOTS];

bool flat_register(int fd, const struct flat_map *m)
{
	for (size_t i = 0; i < FLAT_SLOTS; i++) {
		if (__atomic_load_n(&slots[i].fd1, __ATOMIC_ACQUIRE))
			continue;
		__atomic_store_n(&slots[i].map, m, __ATOMIC_RELAXED);
		__atomic_store_n(&slots[i].fd1, fd + 1, __ATOMIC_RELEASE);
		return true;
	}
	return false;
}

void flat_unregister(int fd)
{
	for (size_t i = 0; i < FLAT_SLOTS; i++)
		if (__atomic_load_n(&slots[i].fd1, __ATOMIC_ACQUIRE) == fd + 1)
			__atomic_store_n(&slots[i].fd1, 0, __ATOMIC_RELEASE);
}

static const struct flat_map *flat_lookup(int fd)
{
	for (size_t i = 0; i < FLAT_SLOTS; i++)
		if (__atomic_load_n(&slots[i].fd1, __ATOMIC_ACQUIRE) == fd + 1)
			return __atomic_load_n(&slots[i].map, __ATOMIC_RELAXED);
	return NULL;
}

ssize_t flat_sys_pread(int fd, void *buf, size_t len, off_t off)
{
	return (ssize_t)syscall(SYS_pread64, fd, buf, len, off);
}

ssize_t pread(int fd, void *buf, size_t len, off_t off);
ssize_t pread64(int fd, void *buf, size_t len, off_t off);

ssize_t pread(int fd, void *buf, size_t len, off_t off)
{
	const struct flat_map *m = fd >= 0 ? flat_lookup(fd) : NULL;
	if (!m)
		return flat_sys_pread(fd, buf, len, off);
	if (off < 0) {
		errno = EINVAL;
		return -1;
	}
	return flat_map_pread(m, buf, len, (uint64_t)off);
}

ssize_t pread64(int fd, void *buf, size_t len, off_t off) { return pread(fd, buf, len, off); }
