/// A setting of `logd` that is malformed or out of range, or a configuration file that cannot
/// be read: one sentence naming the flag (or the file and line) and what it must be.
public struct ConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The sentence, such as `--port must be between 0 and 65535.`
    public var message: String

    /// Makes an error from its sentence.
    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
