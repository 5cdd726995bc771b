import NIOCore

/// A connection's event loop as the executor of its task (SE-0417 task executor preference).
///
/// Hummingbird runs each connection's task on the global concurrent executor: every request
/// then crosses threads twice (the event loop yields the request part to the task on a pool
/// thread; the task's response parts go back to the event loop). With this preference the
/// connection's task, and the child tasks it makes, run on the thread that reads and writes its
/// socket: a request part resumes the task in the same loop tick, and its writes need no hop.
/// Actor-isolated work and unstructured tasks still run where they always did; blocking file
/// work stays on the store's I/O threads.
final class EventLoopTaskExecutor: TaskExecutor {
    let eventLoop: any EventLoop

    init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute { [self] in
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}
