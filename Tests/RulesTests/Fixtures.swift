import JSON
import Rules

/// Shared helpers: an in-memory file system and a minimal valid configuration.
enum Fixtures {
    static let header = """
    server { url = "ws://127.0.0.1:3020" }
    tenant org_demo { token = env:MOJO_TOKEN }
    sink bot { type = pipe  command = ["bot.sh"] }

    """

    static let variables = ["MOJO_TOKEN": "jwt", "WEBHOOK_SECRET": "whsec_x"]

    static func env(_ files: [String: String] = [:], variables: [String: String] = variables) -> ConfigEnvironment {
        .inMemory(files: files, variables: variables)
    }

    /// Loads `text` as `/etc/mb/bridge.conf` with `files` beside it.
    static func load(_ text: String, files: [String: String] = [:],
                     variables: [String: String] = variables) -> Result<BridgeConfig, ConfigErrors> {
        var all = files
        all["/etc/mb/bridge.conf"] = text
        return ConfigLoader.load(path: "/etc/mb/bridge.conf", env: env(all, variables: variables))
    }

    /// The config, or `nil` (with the errors recorded by the caller's expectation).
    static func config(_ text: String, files: [String: String] = [:]) -> BridgeConfig? {
        try? load(text, files: files).get()
    }

    /// The printed errors of loading `text` (empty when it loads).
    static func errors(_ text: String, files: [String: String] = [:],
                       variables: [String: String] = variables) -> [String] {
        switch load(text, files: files, variables: variables) {
        case .success: return []
        case .failure(let errors): return errors.map(\.description)
        }
    }

    static func message(_ content: String = "hello", conversation: String = "11111111-1111-4111-8111-111111111111",
                        sender: String = "user_1", name: String = "Max", type: String = "TEXT",
                        tenant: String = "org_demo") -> RoutableEvent {
        let data: JSONValue = [
            "conversationId": .string(conversation),
            "message": [
                "id": "m1", "conversationId": .string(conversation), "senderId": .string(sender),
                "content": .string(content), "type": .string(type), "createdAt": "2024-12-29T10:00:00.000Z",
                "sender": ["name": .string(name)],
            ],
        ]
        return RoutableEvent(tenant: tenant, type: "message:new", conversationId: conversation, senderId: sender,
                             messageType: type, content: content, senderName: name,
                             createdAt: "2024-12-29T10:00:00.000Z", data: data, selfUserId: "user_bot",
                             eventId: "evt_1")
    }
}
