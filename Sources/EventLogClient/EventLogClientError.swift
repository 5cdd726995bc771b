/// An error of ``EventLogClient``: the server's answer (its contract `code`, its sentence, the
/// HTTP status), or a transport failure.
public struct EventLogClientError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The contract's error code (`topic_not_found`, `invalid_offset`, …), or
    /// `transport` when no answer came, `invalid_response` when the answer was not understood.
    public var code: String
    /// One sentence saying what went wrong.
    public var message: String
    /// The HTTP status, `0` without an answer.
    public var status: Int
    /// Seconds the server asked to wait before retrying (`Retry-After`), if any.
    public var retryAfterSeconds: Int?

    public init(code: String, message: String, status: Int, retryAfterSeconds: Int? = nil) {
        self.code = code
        self.message = message
        self.status = status
        self.retryAfterSeconds = retryAfterSeconds
    }

    public var description: String { status == 0 ? "\(code): \(message)" : "\(status) \(code): \(message)" }

    /// Whether the same request may succeed later: no answer, `429`, `503`, `507` and other 5xx.
    public var isRetryable: Bool { status == 0 || status == 429 || status >= 500 }

    static func transport(_ error: any Error) -> EventLogClientError {
        EventLogClientError(code: "transport", message: "No answer from logd: \(error).", status: 0)
    }

    static func invalidResponse(_ what: String, status: Int) -> EventLogClientError {
        EventLogClientError(code: "invalid_response", message: "logd answered something this client does not understand: \(what).",
                            status: status)
    }
}
