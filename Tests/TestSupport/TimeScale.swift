import Foundation

/// How many times slower than a normal debug build the code under test runs:
/// `$EVENTLOG_TEST_TIME_SCALE`, else 1.
///
/// A sanitizer build is several times slower (ThreadSanitizer about eight times on the
/// writer processes), so the kill tests, which let a writer run a random while before they
/// kill it and count how often it died at a named crash point first, stretch that while by
/// this factor (`make sanitize-thread` sets it). Only the time a writer is given changes; every
/// check stays the same.
package enum TimeScale {
    /// The factor, at least 1.
    package static let factor: Double = {
        guard let text = ProcessInfo.processInfo.environment["EVENTLOG_TEST_TIME_SCALE"],
              let value = Double(text), value.isFinite, value >= 1 else { return 1 }
        return min(value, 100)
    }()

    /// `milliseconds` stretched by ``factor``.
    package static func milliseconds(_ milliseconds: Int) -> Int { Int((Double(milliseconds) * factor).rounded()) }
}
