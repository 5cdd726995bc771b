package import EventLog

/// Opens (or creates) the store in `directory` with the quiet ``testLogger``.
///
/// - Parameters:
///   - directory: the data directory.
///   - faults: makes the store's system calls fail on purpose (`FaultInjector`), if given.
///   - configure: changes the options first, e.g. `{ $0.cleanerInterval = nil }`.
package func openStore(
    _ directory: String, faults: FaultInjector? = nil, configure: (inout LogStore.Options) -> Void = { _ in }
) async throws -> LogStore {
    var options = LogStore.Options()
    options.faults = faults
    configure(&options)
    return try await LogStore.open(at: directory, options: options, logger: testLogger)
}
