/// The settings of one sink kind (`type = NAME`), as the rest of the daemon sees them without
/// knowing the kind: how route templates are escaped for it, whether it takes the JSON envelope
/// whatever the template, the secrets it references, and the attributes it attaches to each
/// delivery (spooled with the event, e.g. an email subject).
///
/// Adding a kind `x` on the configuration side: `XSinkSettings.swift` with the settings, their
/// keys and reading (a `ConfigurableSinkKind`), and ONE line in `SinkSettings.registry`. Code
/// that needs the kind's own settings asks `settings.kind.settings(as: XSinkSettings.self)`.
public protocol SinkKindSettings: Sendable {
    /// The `type = ...` word.
    static var typeName: String { get }
    /// How a route's template is escaped for this kind.
    var templateEscaping: TemplateEscaping { get }
    /// Whether the sink gets the JSON envelope whatever the route's template (it renders itself).
    var receivesEnvelope: Bool { get }
    /// The secrets the settings reference (`env:` names are hidden from every child).
    var secretReferences: [SecretRef] { get }
    /// Whether `attributes(for:)` gives anything (so routing asks only kinds that attach some).
    var hasDeliveryAttributes: Bool { get }
    /// Small key/value strings attached to each delivery of `event` (spooled with it).
    func attributes(for event: RoutableEvent) -> [(String, String)]
    /// Whether `other` holds the same settings (a reload restarts a sink whose settings changed).
    func isEqual(to other: any SinkKindSettings) -> Bool
}

extension SinkKindSettings {
    public var receivesEnvelope: Bool { false }
    public var secretReferences: [SecretRef] { [] }
    public var hasDeliveryAttributes: Bool { false }
    public func attributes(for event: RoutableEvent) -> [(String, String)] { [] }
}

extension SinkKindSettings where Self: Equatable {
    public func isEqual(to other: any SinkKindSettings) -> Bool { (other as? Self) == self }
}

/// A kind the configuration language can read: its keys, and how a block of its type is read
/// and validated (errors with file:line:col through the reader).
protocol ConfigurableSinkKind: SinkKindSettings {
    /// The keys a block of this type may hold, besides `type`, `queue`, `when_full` and `retry`.
    static var keys: [String] { get }
    /// Reads the kind's keys from a `sink` block.
    static func read(_ reader: inout BlockReader) -> Self
}

/// One registered kind: its `type` word, keys and reader.
struct SinkKindEntry: Sendable {
    let name: String
    let keys: [String]
    let read: @Sendable (inout BlockReader) -> any SinkKindSettings

    init<K: ConfigurableSinkKind>(_ kind: K.Type) {
        name = K.typeName
        keys = K.keys
        read = { K.read(&$0) }
    }
}
