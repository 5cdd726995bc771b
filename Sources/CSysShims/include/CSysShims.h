#ifndef CSYSSHIMS_H
#define CSYSSHIMS_H

#include <stdint.h>

/// Starts writeback of the dirty pages of `fd` in [offset, offset + length) without waiting
/// for it (Linux `sync_file_range(SYNC_FILE_RANGE_WRITE)`). Returns 0, or an errno value;
/// ENOSYS where the call does not exist.
int eventlog_start_writeback(int fd, int64_t offset, int64_t length);

/// The C heap as glibc's allocator sees it (`mallinfo2`): bytes handed out to the program
/// (including blocks mapped on their own) in `in_use`, and bytes the allocator holds free
/// (returned by the program, not yet to the kernel) in `held_free`. Returns 0, or ENOSYS
/// where the C library cannot tell.
int eventlog_heap_usage(uint64_t *in_use, uint64_t *held_free);

#endif
