// ThreadSanitizer builds (`make sanitize`, `-DTSAN_LOCKS`) lock with a `pthread_mutex_t` the
// sanitizer sees instead of `Synchronization.Mutex`, a futex it does not (Docs/RELIABILITY.md,
// "Sanitizers"); this module's declaration shadows the imported one. No effect otherwise.
#if TSAN_LOCKS
import SanitizerLocks

typealias Mutex<Value: ~Copyable> = SanitizerLocks.Mutex<Value>
#endif
