#ifndef EVENTLOG_CFUZZER_H
#define EVENTLOG_CFUZZER_H
#include <stddef.h>
#include <stdint.h>

/// libFuzzer's driver, linked in by `-sanitize=fuzzer` (see Tools/fuzz/README.md).
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
