// System calls that Swift's Glibc module does not expose (they need _GNU_SOURCE).
#define _GNU_SOURCE
#include "CSysShims.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>

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
