// ThreadSanitizer and Synchronization.Mutex on Linux (Docs/RELIABILITY.md, "Sanitizers"):
// four threads append to an array only inside Mutex.withLock, and TSan still reports a
// "Swift access race" (toolchain 6.3.1): the lock is a futex the sanitizer does not see.
//   swiftc -sanitize=thread -O Tests/sanitizers/tsan-mutex-reproducer.swift -o /tmp/m && /tmp/m
// With the lock `make sanitize-thread` uses instead (Sources/SanitizerLocks, a pthread_mutex_t;
// declared in the same module, it shadows Synchronization's), the same program is clean:
//   mkdir -p /tmp/r && cp Tests/sanitizers/tsan-mutex-reproducer.swift /tmp/r/main.swift &&
//   swiftc -sanitize=thread -O -DTSAN_LOCKS Sources/SanitizerLocks/Mutex.swift /tmp/r/main.swift -o /tmp/m && /tmp/m
import Synchronization
#if canImport(Glibc)
import Glibc
#endif
final class Box: Sendable { let state = Mutex<[Int]>([]) }
let box = Box()
var threads: [pthread_t] = []
for _ in 0..<4 {
    var t = pthread_t()
    pthread_create(&t, nil, { _ in
        for i in 0..<10000 { box.state.withLock { $0.append(i) } }
        return nil
    }, nil)
    threads.append(t)
}
for t in threads { pthread_join(t, nil) }
print(box.state.withLock { $0.count })
