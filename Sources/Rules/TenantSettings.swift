/// A `tenant ID { }` block: one MOJO organisation and the token the daemon uses for it.
public struct TenantSettings: Sendable, Equatable {
    /// The tenant id (`org_...`), the block's name.
    public var id: String
    /// `token`: where the JWT comes from (required); `env:`, `file:` or `command:`.
    public var token: SecretRef
    /// `conversations`: conversation ids to `conversation:join` explicitly after connecting
    /// (the server already joins the user's own conversations).
    public var conversations: [String]
    /// Where the block starts.
    public var location: SourceLocation

    /// Settings from their values.
    public init(id: String, token: SecretRef, conversations: [String] = [], location: SourceLocation) {
        self.id = id
        self.token = token
        self.conversations = conversations
        self.location = location
    }

    static let keys = ["token", "conversations"]

    /// Reads a `tenant` block whose name was already checked.
    static func read(_ reader: inout BlockReader, id: String) -> TenantSettings {
        let token = reader.secret("token", allowCommand: true, required: true)
        return TenantSettings(id: id, token: token ?? .env(""),
                              conversations: reader.stringList("conversations") ?? [],
                              location: reader.block.location)
    }
}
