/* makedumpfile's kdump-compressed format ("KDUMP   ", diskdump_mod.h), the
 * x86-64 layout: what the extract writer (dump/kdump_write.c) and the
 * recompressor (tools/kdump-recompress.c) both need.
 *
 *   block 0           disk_dump_header
 *   blocks 1..S       kdump_sub_header, then VMCOREINFO and ELF notes
 *   next B blocks     bitmap 1 (pages that exist), bitmap 2 (pages stored);
 *                     one bit per pfn, least significant bit first
 *   descriptors       one per bit set in bitmap 2, in pfn order
 *   page data         each descriptor's bytes, compressed or raw */
#ifndef DUMP_KDUMP_FORMAT_H
#define DUMP_KDUMP_FORMAT_H

#include <stdint.h>
#include <string.h>

#define KDUMP_SIGNATURE "KDUMP   "
#define KDUMP_HEADER_VERSION 6	/* the first with 64-bit pfns in the sub header */

/* disk_dump_header */
#define KDUMP_HDR_SIGNATURE 0
#define KDUMP_HDR_VERSION 8
#define KDUMP_HDR_UTSNAME 12	/* struct new_utsname: 6 fields of 65 bytes */
#define KDUMP_UTS_LEN 65
#define KDUMP_HDR_TIMESTAMP 408	/* struct timeval */
#define KDUMP_HDR_STATUS 424
#define KDUMP_HDR_BLOCK_SIZE 428
#define KDUMP_HDR_SUB_HDR_SIZE 432	/* in blocks */
#define KDUMP_HDR_BITMAP_BLOCKS 436	/* both bitmaps */
#define KDUMP_HDR_MAX_MAPNR 440	/* 32-bit, obsolete with version 6 */
#define KDUMP_HDR_TOTAL_RAM_BLOCKS 444
#define KDUMP_HDR_DEVICE_BLOCKS 448
#define KDUMP_HDR_WRITTEN_BLOCKS 452
#define KDUMP_HDR_CURRENT_CPU 456
#define KDUMP_HDR_NR_CPUS 460

/* kdump_sub_header, one block in */
#define KDUMP_SUB_PHYS_BASE 0
#define KDUMP_SUB_DUMP_LEVEL 8
#define KDUMP_SUB_OFFSET_VMCOREINFO 32
#define KDUMP_SUB_SIZE_VMCOREINFO 40
#define KDUMP_SUB_OFFSET_NOTE 48
#define KDUMP_SUB_SIZE_NOTE 56
#define KDUMP_SUB_OFFSET_ERASEINFO 64
#define KDUMP_SUB_SIZE_ERASEINFO 72
#define KDUMP_SUB_START_PFN_64 80
#define KDUMP_SUB_END_PFN_64 88
#define KDUMP_SUB_MAX_MAPNR_64 96
#define KDUMP_SUB_SIZE 104

/* status word and page descriptor flags */
#define KDUMP_F_ZLIB 0x1u
#define KDUMP_F_LZO 0x2u
#define KDUMP_F_SNAPPY 0x4u
#define KDUMP_F_ZSTD 0x20u
#define KDUMP_F_ALL (KDUMP_F_ZLIB | KDUMP_F_LZO | KDUMP_F_SNAPPY | KDUMP_F_ZSTD)

/* page_desc_t: offset i64, size u32, flags u32, page_flags u64 */
#define KDUMP_DESC_SIZE 24

static inline uint32_t kdump_get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline uint64_t kdump_get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static inline void kdump_put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static inline void kdump_put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

#endif
