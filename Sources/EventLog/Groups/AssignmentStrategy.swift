/// How a consumer group spreads its topics' partitions over its live members.
///
/// Every strategy assigns each partition of the subscribed topics to exactly one member
/// subscribed to its topic. ``sticky`` is the default.
public struct AssignmentStrategy: Hashable, Sendable, CustomStringConvertible {
    private enum Kind: Hashable, Sendable { case range, roundRobin, sticky }
    private let kind: Kind

    /// Kafka's `RangeAssignor`: per topic, consecutive partitions to members in id order,
    /// the first `partitions % members` members getting one more.
    public static let range = AssignmentStrategy(kind: .range)
    /// Kafka's `RoundRobinAssignor`: every partition of every topic, in order, to the next
    /// subscribed member in turn.
    public static let roundRobin = AssignmentStrategy(kind: .roundRobin)
    /// Balanced like round-robin, but a rebalance keeps every partition where it was unless
    /// moving it is needed for balance (Kafka's `StickyAssignor`): members keep their
    /// positions and caches, and fewer partitions pause for the hand-over.
    public static let sticky = AssignmentStrategy(kind: .sticky)

    /// Parses `range`, `roundrobin` (or `round_robin`) and `sticky`.
    public init?(name: String) {
        switch name.lowercased() {
        case "range": kind = .range
        case "roundrobin", "round_robin", "round-robin": kind = .roundRobin
        case "sticky": kind = .sticky
        default: return nil
        }
    }

    private init(kind: Kind) { self.kind = kind }

    public var description: String {
        switch kind {
        case .range: "range"
        case .roundRobin: "roundrobin"
        case .sticky: "sticky"
        }
    }

    /// Assigns `partitions` to members.
    ///
    /// - Parameters:
    ///   - partitions: every partition of every subscribed topic.
    ///   - subscriptions: each live member's topics.
    ///   - previous: each member's assignment before this rebalance (used by ``sticky``).
    /// - Returns: every member's partitions, sorted; members without work map to `[]`.
    public func assign(
        _ partitions: [TopicPartition], to subscriptions: [MemberID: Set<String>],
        previous: [MemberID: [TopicPartition]] = [:]
    ) -> [MemberID: [TopicPartition]] {
        var result: [MemberID: [TopicPartition]] = subscriptions.mapValues { _ in [] }
        let members = subscriptions.keys.sorted()
        guard !members.isEmpty else { return [:] }
        let all = Array(Set(partitions)).sorted()
        switch kind {
        case .range:
            let byTopic = Dictionary(grouping: all, by: \.topic)
            for topic in byTopic.keys.sorted() {
                let list = byTopic[topic]!
                let takers = members.filter { subscriptions[$0]!.contains(topic) }
                guard !takers.isEmpty else { continue }
                let share = list.count / takers.count, extra = list.count % takers.count
                var i = 0
                for (n, member) in takers.enumerated() {
                    let count = share + (n < extra ? 1 : 0)
                    result[member]!.append(contentsOf: list[i..<i + count])
                    i += count
                }
            }
        case .roundRobin:
            var turn = 0
            for p in all {
                for step in 0..<members.count {
                    let member = members[(turn + step) % members.count]
                    if subscriptions[member]!.contains(p.topic) {
                        result[member]!.append(p)
                        turn = (turn + step + 1) % members.count
                        break
                    }
                }
            }
        case .sticky:
            result = sticky(all, members: members, subscriptions: subscriptions, previous: previous)
        }
        return result.mapValues { $0.sorted() }
    }

    private func sticky(
        _ all: [TopicPartition], members: [MemberID], subscriptions: [MemberID: Set<String>],
        previous: [MemberID: [TopicPartition]]
    ) -> [MemberID: [TopicPartition]] {
        let existing = Set(all)
        var owned: [MemberID: [TopicPartition]] = [:]
        var taken: Set<TopicPartition> = []
        // 1. Keep what each member had, where it still exists and is still subscribed.
        for member in members {
            var keep: [TopicPartition] = []
            for p in (previous[member] ?? []).sorted()
            where existing.contains(p) && subscriptions[member]!.contains(p.topic) && !taken.contains(p) {
                keep.append(p)
                taken.insert(p)
            }
            owned[member] = keep
        }
        // 2. Each free partition to the least loaded subscribed member.
        for p in all where !taken.contains(p) {
            let takers = members.filter { subscriptions[$0]!.contains(p.topic) }
            guard let member = takers.min(by: { (owned[$0]!.count, $0) < (owned[$1]!.count, $1) }) else { continue }
            owned[member]!.append(p)
        }
        // 3. Move one partition at a time from a loaded member to one with at least two fewer.
        var moved = true
        while moved {
            moved = false
            for donor in members.sorted(by: { (owned[$0]!.count, $1) > (owned[$1]!.count, $0) }) {
                for p in owned[donor]!.sorted().reversed() {
                    let receivers = members.filter { $0 != donor && subscriptions[$0]!.contains(p.topic) && owned[$0]!.count + 1 < owned[donor]!.count }
                    guard let receiver = receivers.min(by: { (owned[$0]!.count, $0) < (owned[$1]!.count, $1) }) else { continue }
                    owned[donor]!.removeAll { $0 == p }
                    owned[receiver]!.append(p)
                    moved = true
                    break
                }
                if moved { break }
            }
        }
        return owned
    }
}
