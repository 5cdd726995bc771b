import EventLog
import Hummingbird

extension Routes {
    /// `PUT`, `GET`, `DELETE /v1/topics/{topic}`, `PATCH /v1/topics/{topic}/config` and `GET /v1/topics`.
    func addTopicRoutes(to router: Router<Context>) {
        router.get("/v1/topics") { request, _ in
            // Only the topics the token may read are listed.
            let access = try await access(request)
            var out = JSONWriter()
            out.objectWithArray("topics") { out in
                for topic in store.topics() where access.allows(.read, topic: topic.name) { TopicDescription.write(topic, to: &out) }
            }
            return json(out.bytes)
        }
        router.put("/v1/topics/:topic") { request, context in try await putTopic(request, context) }
        router.get("/v1/topics/:topic") { request, context in
            let topic = try existingTopic(try await topicName(request, context, for: .read))
            var out = JSONWriter()
            TopicDescription.write(topic, to: &out)
            return json(out.bytes)
        }
        router.patch("/v1/topics/:topic/config") { request, context in try await patchTopic(request, context) }
        router.delete("/v1/topics/:topic") { request, context in
            let name = try await topicName(request, context, for: .manage)
            // Internal topics (consumer group commits) refuse it: `LogError.internalTopic`, a 403.
            try await store.deleteTopic(named: name)
            server.idempotency.forget(topic: name)
            server.writeHealth.forget(topic: name)
            return Response(status: .noContent)
        }
    }

    /// Creates a topic (`201`), or confirms an existing one whose given settings match (`200`),
    /// else `409 topic_exists`. Only the settings in the body are compared.
    private func putTopic(_ request: Request, _ context: Context) async throws -> Response {
        let name = try await topicName(request, context, for: .manage)
        let body = try await collectBody(request)
        let settings = try TopicSettings(body: Array(body.readableBytesView))
        var configuration = store.defaultTopicConfiguration
        settings.apply(to: &configuration)
        let topic: Topic
        while true {
            if let existing = store.topic(named: name) {
                return try answerForExisting(existing, settings: settings)
            }
            do {
                try configuration.validate()
            } catch {
                throw APIError(.invalidConfig, error.message)
            }
            do {
                topic = try await store.createTopic(named: name, configuration: configuration)
                break
            } catch LogError.Code.topicExists {
                continue  // created meanwhile: compare with it
            }
        }
        var out = JSONWriter()
        TopicDescription.write(topic, to: &out)
        return json(out.bytes, status: .created)
    }

    /// Changes the settings the body gives (the names and values of `PUT`): `200` with the
    /// topic as `GET` answers it. A bad value is `400 invalid_config`; a change of a setting
    /// fixed at creation (the partition count, compression, segment size) `409
    /// fixed_setting`; an internal topic `403 forbidden`. Nothing changes then.
    private func patchTopic(_ request: Request, _ context: Context) async throws -> Response {
        let name = try await topicName(request, context, for: .manage)
        let body = try await collectBody(request)
        let settings = try TopicSettings(body: Array(body.readableBytesView))
        let topic: Topic
        do {
            topic = try await store.alterTopic(named: name) { settings.apply(to: &$0) }
        } catch let error as LogError where error.code == .invalidArgument {
            throw APIError(.invalidConfig, error.message)
        }
        var out = JSONWriter()
        TopicDescription.write(topic, to: &out)
        return json(out.bytes)
    }

    private func answerForExisting(_ topic: Topic, settings: TopicSettings) throws -> Response {
        if let difference = settings.firstDifference(from: topic.configuration) {
            throw APIError(.topicExists, "Topic \(topic.name) exists with another \(difference).")
        }
        var out = JSONWriter()
        TopicDescription.write(topic, to: &out)
        return json(out.bytes)
    }
}
