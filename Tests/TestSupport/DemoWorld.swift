import Foundation
import JSON

/// The demo tenant on a dev server, with helpers to make what one test needs: its own
/// conversation (so tests running in parallel don't see each other's messages) and token files.
public struct DemoWorld: Sendable {
    public static let tenant = "org_demo"
    public static let bridgeUser = "user_bridge"
    public static let alice = "user_alice"

    public let server: DevServer
    public var control: ControlClient { ControlClient(port: server.port) }

    /// One dev server with demo data shared by a test run; tests isolate themselves with
    /// `newConversation()`.
    public static let shared: DemoWorld = {
        do { return DemoWorld(server: try DevServer(demo: true)) } catch {
            preconditionFailure("cannot start the MOJO dev server: \(error)")
        }
    }()

    public init(server: DevServer) { self.server = server }

    /// A fresh conversation in the demo tenant with Alice and the bridge user.
    public func newConversation(members: [String] = [DemoWorld.alice, DemoWorld.bridgeUser]) throws -> String {
        let r = try control.post("/control/conversations", ["tenantId": .string(Self.tenant), "title": "test",
                                                            "members": .array(members.map { .string($0) })])
        guard let id = r["id"]?.stringValue else { throw DevServerError.control("no id in \(r)") }
        return id
    }

    /// Writes a fresh token for `user` to a new file (mode 0600) and returns its path.
    public func tokenFile(for user: String = DemoWorld.bridgeUser, ttl: Int = 3600) throws -> String {
        let token = try control.token(for: user, ttl: ttl)
        let path = try RepoPaths.temporaryDirectory("mojo-token") + "/token"
        _ = FileManager.default.createFile(atPath: path, contents: Data(token.utf8), attributes: [.posixPermissions: 0o600])
        return path
    }

    /// Posts a message as `user` through the control API.
    @discardableResult
    public func post(_ content: String, to conversation: String, as user: String = DemoWorld.alice) throws -> JSONValue {
        try control.post("/control/messages", ["userId": .string(user), "conversationId": .string(conversation), "content": .string(content)])
    }

    /// Messages of a conversation, oldest first.
    public func messages(in conversation: String) throws -> [JSONValue] {
        let r = try control.get("/control/messages?conversationId=\(conversation)")
        return r["messages"]?.arrayValue ?? r.arrayValue ?? []
    }

    /// Waits (long-poll on the server) until `user` has a connected socket.
    public func waitForSocket(of user: String, timeout: Int = 10) throws {
        let r = try control.get("/control/sockets?wait_for_user=\(user)&wait=\(timeout)")
        let sockets = r["sockets"]?.arrayValue ?? r.arrayValue ?? []
        guard sockets.contains(where: { $0["userId"]?.stringValue == user }) else {
            throw DevServerError.control("\(user) did not connect within \(timeout) s")
        }
    }

    /// The server's base URL.
    public var url: String { server.url }
}

extension DemoWorld {
    /// The sequence number of the newest event clients sent (a starting point for `clientEvents`).
    public func latestEventSeq() throws -> Int {
        try control.get("/control/client-events?since=-1")["next"]?.intValue ?? 0
    }

    /// Events clients sent after `since`, optionally only `name`, waiting up to `wait` seconds for one.
    public func clientEvents(since: Int, name: String? = nil, wait: Int = 10) throws -> [JSONValue] {
        var path = "/control/client-events?since=\(since)&wait=\(wait)"
        if let name { path += "&name=\(name)" }
        return try control.get(path)["events"]?.arrayValue ?? []
    }

    /// Waits until at least `count` events named `name` that `filter` accepts were sent after `since`.
    public func awaitClientEvents(since: Int, name: String, count: Int = 1, timeout: Double = 15,
                                  where filter: (JSONValue) -> Bool = { _ in true }) throws -> [JSONValue] {
        let deadline = Date().addingTimeInterval(timeout)
        var seen: [JSONValue] = []
        var cursor = since
        while seen.count < count {
            let left = Int(deadline.timeIntervalSinceNow.rounded(.up))
            if left <= 0 { break }
            let batch = try clientEvents(since: cursor, name: name, wait: min(left, 10))
            if let last = batch.last?["seq"]?.intValue { cursor = last }
            seen += batch.filter(filter)
        }
        return seen
    }
}
