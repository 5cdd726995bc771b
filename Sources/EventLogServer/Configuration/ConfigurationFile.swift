/// `logd`'s configuration file (`--config FILE`): one `flag-name = value` per line.
///
/// ```
/// # /etc/logd.conf
/// data-dir = /var/lib/logd
/// port = 8080
/// default-durability = interval:250
/// no-auto-create            # a flag without value; `= true` too, `= false` leaves it out
/// auth-token = secret-one
/// auth-token = secret-two   # repeatable flags repeat
/// ```
///
/// Blank lines and lines starting with `#` are skipped; spaces and tabs around keys and
/// values are trimmed. Each line becomes the command-line flag of the same name, placed
/// before the command line's own so that a flag given on the command line wins.
public enum ConfigurationFile {
    /// The arguments the lines of `text` stand for: `key = value` is `--key value`; `key` and
    /// `key = true` are `--key`; `key = false` is nothing.
    ///
    /// - Parameters:
    ///   - text: the file's content.
    ///   - path: the file's name, for the error message.
    /// - Throws: ``ConfigurationError`` naming the file and line of a line without a key, or
    ///   with the key `config` (a file does not include another).
    public static func arguments(parsing text: String, path: String) throws(ConfigurationError) -> [String] {
        var arguments: [String] = []
        var lineNumber = 0
        // "\r\n" is one Character: split at it as at "\n".
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            lineNumber += 1
            let line = trimmed(rawLine)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let parts = line.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(trimmed)
            let key = parts[0]
            guard !key.isEmpty, key != "config", !key.hasPrefix("-") else {
                throw ConfigurationError("\(path):\(lineNumber): expected `flag-name = value`.")
            }
            let value = parts.count > 1 ? parts[1] : "true"
            switch value {
            case "true": arguments.append("--\(key)")
            case "false": continue
            default: arguments += ["--\(key)", String(value)]
            }
        }
        return arguments
    }

    /// The arguments of the configuration file at `path` (see ``arguments(parsing:path:)``).
    ///
    /// - Throws: ``ConfigurationError`` when the file cannot be read or a line is malformed.
    public static func arguments(readingFile path: String) throws(ConfigurationError) -> [String] {
        try arguments(parsing: TextFile.read(path), path: path)
    }

    /// Where `--config FILE` is among `arguments`, the file's arguments put before them all:
    /// `arguments` unchanged without `--config`.
    public static func expanding(_ arguments: [String]) throws(ConfigurationError) -> [String] {
        guard let i = arguments.firstIndex(of: "--config"), i + 1 < arguments.count else { return arguments }
        return try self.arguments(readingFile: arguments[i + 1]) + arguments
    }

    private static func trimmed(_ text: Substring) -> Substring {
        var slice = text
        while let first = slice.first, first == " " || first == "\t" || first == "\r" { slice.removeFirst() }
        while let last = slice.last, last == " " || last == "\t" || last == "\r" { slice.removeLast() }
        return slice
    }
}
