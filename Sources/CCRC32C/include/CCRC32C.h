#ifndef CCRC32C_H
#define CCRC32C_H

#include <stddef.h>
#include <stdint.h>

/// Extends a CRC32C (Castagnoli) checksum over `length` bytes.
///
/// Pass 0 as `crc` to start; the returned value is the finished checksum of everything
/// fed so far (pre- and post-conditioning are done inside), so calls chain:
/// `crc32c_extend(crc32c_extend(0, a, n), b, m) == crc32c_extend(0, ab, n + m)`.
/// Uses the SSE4.2 `crc32` instruction when the CPU has it, slicing-by-8 tables otherwise.
uint32_t eventlog_crc32c_extend(uint32_t crc, const void *bytes, size_t length);

/// The same checksum through the portable slicing-by-8 path only (for tests and benchmarks).
uint32_t eventlog_crc32c_extend_portable(uint32_t crc, const void *bytes, size_t length);

/// 1 when the hardware path is in use.
int eventlog_crc32c_hardware_available(void);

#endif
