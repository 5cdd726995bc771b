/// A SASL/PLAIN user name and password (for logd: any user, and a token or JWT as password).
public struct SASLPlainCredentials: Sendable {
    /// The user name.
    public var user: String
    /// The password.
    public var password: String

    /// Credentials for `user` with `password`.
    public init(user: String, password: String) {
        self.user = user
        self.password = password
    }

    /// PLAIN's message: authorization id (empty), NUL, user, NUL, password (RFC 4616).
    var message: [UInt8] { [0] + Array(user.utf8) + [0] + Array(password.utf8) }
}
