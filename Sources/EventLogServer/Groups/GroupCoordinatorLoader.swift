import EventLog
import Logging

/// Opens the store's ``EventLog/GroupCoordinator`` on the first group request, once.
///
/// The coordinator's open replays the offsets topic, so it is async; ``LogServer/init(store:configuration:logger:)``
/// is not, and a server that never sees a group request never pays for it. A failed open is
/// retried by the next request.
actor GroupCoordinatorLoader {
    private let store: LogStore
    private let options: GroupCoordinator.Options
    private let logger: Logger
    private var opening: Task<GroupCoordinator, any Error>?
    /// The coordinator once its open finished.
    private(set) var opened: GroupCoordinator?

    init(store: LogStore, options: GroupCoordinator.Options, logger: Logger) {
        self.store = store
        self.options = options
        self.logger = logger
    }

    /// The coordinator, opened when this is the first call.
    func coordinator() async throws -> GroupCoordinator {
        if let opening { return try await opening.value }
        let store = self.store, options = self.options, logger = self.logger
        let task = Task { try await GroupCoordinator.open(store: store, options: options, logger: logger) }
        opening = task
        do {
            let coordinator = try await task.value
            opened = coordinator
            return coordinator
        } catch {
            opening = nil
            throw error
        }
    }

    /// Stops the coordinator's session timer, when it was opened.
    func close() async {
        guard let opening, let coordinator = try? await opening.value else { return }
        await coordinator.close()
    }
}
