#ifndef CSYSSHIMS_H
#define CSYSSHIMS_H

#include <stdint.h>
#include <stddef.h>

/// Starts writeback of the dirty pages of `fd` in [offset, offset + length) without waiting
/// for it (Linux `sync_file_range(SYNC_FILE_RANGE_WRITE)`). Returns 0, or an errno value;
/// ENOSYS where the call does not exist.
int eventlog_start_writeback(int fd, int64_t offset, int64_t length);

/// The C heap as glibc's allocator sees it (`mallinfo2`): bytes handed out to the program
/// (including blocks mapped on their own) in `in_use`, and bytes the allocator holds free
/// (returned by the program, not yet to the kernel) in `held_free`. Returns 0, or ENOSYS
/// where the C library cannot tell.
int eventlog_heap_usage(uint64_t *in_use, uint64_t *held_free);

/// Reads up to `length` bytes at `offset` of `fd` only from the page cache, never waiting for
/// the disk: Linux `preadv2(2)` with `RWF_NOWAIT`. Returns the bytes read (short, or 0, when
/// only part of the range is in memory, or at the end of the file), or a negative errno value:
/// `-EAGAIN` when the first page is not in memory (or is locked: being read in, written
/// back). Interrupted calls are retried.
///
/// Where the kernel or the file system cannot read that way (`ENOSYS`, `EOPNOTSUPP`,
/// `ENOTSUP`, `EINVAL` for the flag), and on any other platform, every call answers `-EAGAIN`
/// from then on, without a system call: callers fall back to a blocking read.
int64_t eventlog_pread_cached(int fd, void *buffer, size_t length, int64_t offset);

/// Whether ``eventlog_pread_cached`` can read from the page cache in this process: 1 until a
/// call found `preadv2(2)` with `RWF_NOWAIT` unsupported (always 0 off Linux).
int eventlog_pread_cached_supported(void);

/// Asks the processor to start loading the `lines` cache lines (of 64 bytes) from `address` into
/// its caches and returns at once (`__builtin_prefetch`, for reading, kept in every cache level):
/// a hint, never a fault, whatever the address.
static inline void eventlog_prefetch(const void *address, int lines) {
    for (int line = 0; line < lines; line++) __builtin_prefetch((const char *)address + 64 * line, 0, 3);
}

#endif
