/// A fixture that could not do its part (a binary not built, a server that did not start),
/// in one sentence; the test that called it fails with this message.
package struct TestSupportError: Error, CustomStringConvertible, Sendable {
    /// What went wrong.
    package var message: String

    /// An error saying `message`.
    package init(_ message: String) { self.message = message }

    package var description: String { message }
}
