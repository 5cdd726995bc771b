import EventLog
import KafkaProtocol

extension KafkaBroker {
    /// DescribeGroups: each group's state (Kafka's names), protocol and members, from the
    /// store's group coordinator (the HTTP API's `GET /v1/groups/{g}` sees the same). A classic
    /// group (Kafka clients) gives each member's client id and host, protocol metadata and the
    /// leader's assignment as it was encoded; a group the coordinator assigns (HTTP consumers)
    /// gives its members with empty metadata and protocol type `""`. A group with neither
    /// members nor commits is `Dead`, as Kafka answers for an unknown group at v0–4.
    func describeGroups(_ request: DescribeGroupsRequest, permissions: KafkaPermissions) async -> DescribeGroupsResponse {
        typealias Group = DescribeGroupsResponse.DescribedGroup
        guard let coordinator = await coordinator() else {
            return DescribeGroupsResponse(groups: request.groups.map {
                Group(errorCode: KafkaErrorCode.coordinatorNotAvailable.rawValue, groupId: $0, authorizedOperations: Int32.min)
            })
        }
        var groups: [Group] = []
        for name in request.groups {
            guard (try? GroupCoordinator.validateGroupName(name)) != nil else {
                groups.append(Group(errorCode: KafkaErrorCode.invalidGroupId.rawValue, groupId: name, authorizedOperations: Int32.min))
                continue
            }
            guard permissions.allowsGroup(name) else {
                groups.append(Group(errorCode: KafkaErrorCode.groupAuthorizationFailed.rawValue, groupId: name, authorizedOperations: Int32.min))
                continue
            }
            guard let described = try? await coordinator.describe(name) else {
                groups.append(Group(errorCode: 0, groupId: name, groupState: "Dead", authorizedOperations: Int32.min))
                continue
            }
            let state: String
            if let classic = described.classicState {
                state = classic
            } else {
                state = switch described.state {
                case .empty: "Empty"
                case .stable: "Stable"
                case .rebalancing: "PreparingRebalance"
                }
            }
            groups.append(Group(
                errorCode: 0, groupId: name, groupState: state,
                protocolType: described.protocolType ?? "", protocolData: described.protocolName ?? "",
                members: described.members.map { member in
                    .init(memberId: member.id.rawValue, groupInstanceId: nil, clientId: member.clientID ?? "",
                          clientHost: member.clientHost ?? "", memberMetadata: member.protocolMetadata ?? [],
                          memberAssignment: member.assignmentBytes ?? [])
                },
                authorizedOperations: Int32.min))
        }
        return DescribeGroupsResponse(groups: groups)
    }

    /// ListGroups: every group with members or commits that the connection may use, with its
    /// protocol type (`consumer` for a classic group of Kafka clients, `""` for a group that
    /// only commits or that the coordinator assigns).
    func listGroups(permissions: KafkaPermissions) async -> ListGroupsResponse {
        guard let coordinator = await coordinator() else {
            return ListGroupsResponse(errorCode: KafkaErrorCode.coordinatorNotAvailable.rawValue)
        }
        var groups: [ListGroupsResponse.ListedGroup] = []
        for name in await coordinator.groupNames() where permissions.allowsGroup(name) {
            let described = try? await coordinator.describe(name)
            groups.append(.init(groupId: name, protocolType: described?.protocolType ?? ""))
        }
        return ListGroupsResponse(errorCode: 0, groups: groups)
    }
}
