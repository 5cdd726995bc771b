// System calls that Swift's Glibc module does not expose (they need _GNU_SOURCE).
#define _GNU_SOURCE
#include "CSysShims.h"

#include <errno.h>
#include <fcntl.h>

int eventlog_start_writeback(int fd, int64_t offset, int64_t length) {
#if defined(__linux__)
    if (sync_file_range(fd, (off_t)offset, (off_t)length, SYNC_FILE_RANGE_WRITE) == 0) return 0;
    return errno;
#else
    (void)fd; (void)offset; (void)length;
    return ENOSYS;
#endif
}
