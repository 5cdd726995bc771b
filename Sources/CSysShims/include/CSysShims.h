#ifndef CSYSSHIMS_H
#define CSYSSHIMS_H

#include <stdint.h>

/// Starts writeback of the dirty pages of `fd` in [offset, offset + length) without waiting
/// for it (Linux `sync_file_range(SYNC_FILE_RANGE_WRITE)`). Returns 0, or an errno value;
/// ENOSYS where the call does not exist.
int eventlog_start_writeback(int fd, int64_t offset, int64_t length);

#endif
