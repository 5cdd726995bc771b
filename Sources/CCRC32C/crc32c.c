// CRC32C (Castagnoli, polynomial 0x1EDC6F41, reflected 0x82F63B78), as Kafka's record
// batch v2 uses. Hardware path: SSE4.2's crc32 instruction, 8 bytes at a time, selected at
// run time with __builtin_cpu_supports so no compiler flags are needed. Portable path:
// slicing-by-8 tables built once.

#include "CCRC32C.h"

#include <pthread.h>
#include <string.h>

static uint32_t table[8][256];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void build_tables(void) {
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t crc = n;
        for (int k = 0; k < 8; k++) {
            crc = (crc & 1) ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
        }
        table[0][n] = crc;
    }
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t crc = table[0][n];
        for (int k = 1; k < 8; k++) {
            crc = table[0][crc & 0xff] ^ (crc >> 8);
            table[k][n] = crc;
        }
    }
}

static uint32_t extend_portable(uint32_t crc, const uint8_t *p, size_t n) {
    pthread_once(&table_once, build_tables);
    crc = ~crc;
    while (n > 0 && ((uintptr_t)p & 7) != 0) {
        crc = table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
        n--;
    }
    while (n >= 8) {
        uint64_t word;
        memcpy(&word, p, 8);
        uint32_t lo = (uint32_t)word ^ crc;
        uint32_t hi = (uint32_t)(word >> 32);
        crc = table[7][lo & 0xff] ^ table[6][(lo >> 8) & 0xff] ^
              table[5][(lo >> 16) & 0xff] ^ table[4][lo >> 24] ^
              table[3][hi & 0xff] ^ table[2][(hi >> 8) & 0xff] ^
              table[1][(hi >> 16) & 0xff] ^ table[0][hi >> 24];
        p += 8;
        n -= 8;
    }
    while (n > 0) {
        crc = table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
        n--;
    }
    return ~crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2")))
static uint32_t extend_sse42(uint32_t crc, const uint8_t *p, size_t n) {
    uint64_t c = (uint32_t)~crc;
    while (n > 0 && ((uintptr_t)p & 7) != 0) {
        c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
        n--;
    }
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        c = __builtin_ia32_crc32di(c, w);
        p += 8;
        n -= 8;
    }
    while (n > 0) {
        c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
        n--;
    }
    return ~(uint32_t)c;
}
#endif

static int hardware = -1;

int eventlog_crc32c_hardware_available(void) {
    if (hardware < 0) {
#if defined(__x86_64__)
        __builtin_cpu_init();
        hardware = __builtin_cpu_supports("sse4.2") ? 1 : 0;
#else
        hardware = 0;
#endif
    }
    return hardware;
}

uint32_t eventlog_crc32c_extend(uint32_t crc, const void *bytes, size_t length) {
#if defined(__x86_64__)
    if (eventlog_crc32c_hardware_available()) {
        return extend_sse42(crc, (const uint8_t *)bytes, length);
    }
#endif
    return extend_portable(crc, (const uint8_t *)bytes, length);
}

uint32_t eventlog_crc32c_extend_portable(uint32_t crc, const void *bytes, size_t length) {
    return extend_portable(crc, (const uint8_t *)bytes, length);
}
