package import Logging

/// The logger the tests hand to stores and servers: critical messages only, so a test's
/// output is its own.
package let testLogger: Logger = {
    var logger = Logger(label: "eventlog.test")
    logger.logLevel = .critical
    return logger
}()
