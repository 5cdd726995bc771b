// System calls that Swift's Glibc module does not expose (they need _GNU_SOURCE).
#define _GNU_SOURCE
#include "CSysShims.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdatomic.h>
#include <sys/uio.h>

int eventlog_start_writeback(int fd, int64_t offset, int64_t length) {
#if defined(__linux__)
    if (sync_file_range(fd, (off_t)offset, (off_t)length, SYNC_FILE_RANGE_WRITE) == 0) return 0;
    return errno;
#else
    (void)fd; (void)offset; (void)length;
    return ENOSYS;
#endif
}

int eventlog_heap_usage(uint64_t *in_use, uint64_t *held_free) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
    struct mallinfo2 info = mallinfo2();
    *in_use = (uint64_t)info.uordblks + (uint64_t)info.hblkhd;
    *held_free = (uint64_t)info.fordblks;
    return 0;
#else
    *in_use = 0;
    *held_free = 0;
    return ENOSYS;
#endif
}

#if defined(__linux__) && defined(RWF_NOWAIT)
/// Set once a call found reads from the page cache only unsupported: no call tries again.
static atomic_int pread_cached_unsupported = 0;
#endif

int64_t eventlog_pread_cached(int fd, void *buffer, size_t length, int64_t offset) {
#if defined(__linux__) && defined(RWF_NOWAIT)
    if (atomic_load_explicit(&pread_cached_unsupported, memory_order_relaxed)) return -EAGAIN;
    struct iovec vector = { .iov_base = buffer, .iov_len = length };
    for (;;) {
        ssize_t n = preadv2(fd, &vector, 1, (off_t)offset, RWF_NOWAIT);
        if (n >= 0) return (int64_t)n;
        int code = errno;
        if (code == EINTR) continue;
        if (code == ENOSYS || code == EOPNOTSUPP || code == ENOTSUP || code == EINVAL) {
            atomic_store_explicit(&pread_cached_unsupported, 1, memory_order_relaxed);
            return -EAGAIN;
        }
        return -(int64_t)code;
    }
#else
    (void)fd; (void)buffer; (void)length; (void)offset;
    return -EAGAIN;
#endif
}

int eventlog_pread_cached_supported(void) {
#if defined(__linux__) && defined(RWF_NOWAIT)
    return !atomic_load_explicit(&pread_cached_unsupported, memory_order_relaxed);
#else
    return 0;
#endif
}
