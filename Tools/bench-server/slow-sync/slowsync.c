/* An LD_PRELOAD shim that makes fdatasync(2) and fsync(2) take at least FSYNC_MIN_US
 * microseconds (the real call, then a sleep for the rest): a slow disk, applied alike to every
 * server a benchmark starts with it. Used by fsync_slow_disk.py (ADR 0013).
 *
 *     cc -O2 -shared -fPIC -o slowsync.so slowsync.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <time.h>

static long min_ns;
static int (*real_fdatasync)(int);
static int (*real_fsync)(int);

static long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000L + t.tv_nsec;
}

/* Once, at load, before any of the process's threads calls in. */
__attribute__((constructor)) static void init(void) {
    const char *e = getenv("FSYNC_MIN_US");
    min_ns = e ? atol(e) * 1000L : 0;
    real_fdatasync = dlsym(RTLD_NEXT, "fdatasync");
    real_fsync = dlsym(RTLD_NEXT, "fsync");
}

static void pad(long start) {
    long left = min_ns - (now_ns() - start);
    if (left > 0) {
        struct timespec t = { left / 1000000000L, left % 1000000000L };
        nanosleep(&t, NULL);
    }
}

int fdatasync(int fd) { long s = now_ns(); int r = real_fdatasync(fd); pad(s); return r; }
int fsync(int fd) { long s = now_ns(); int r = real_fsync(fd); pad(s); return r; }
