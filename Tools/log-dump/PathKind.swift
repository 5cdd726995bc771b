/// What PATH names.
enum PathKind: String, Sendable {
    case dataDirectory = "data-directory"
    case topic
    case partition
    case log
    case offsetIndex = "index"
    case timeIndex = "timeindex"
}
