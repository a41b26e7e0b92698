import Foundation
import JSON
import Testing
@testable import SocketIO

/// Cross-checks ``SocketIOCodec`` against the official JavaScript parser (Debian's
/// node-socket.io-parser 4.2.x) through `Tests/Oracle/sio-oracle.js`.
@Suite struct OracleTests {
    static let parserPath = "/usr/share/nodejs/socket.io-parser/package.json"
    static let nodePath: String? = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/node" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()
    static let available = nodePath != nil && FileManager.default.fileExists(atPath: parserPath)

    /// Packets both parsers must treat alike.
    static let agreed: [String] = [
        "0", "0{}", #"0{"token":"jwt","tenantId":"org_1"}"#, "0/admin,", #"0/admin,{"token":"t"}"#, #"0{"sid":"abc","pid":"p"}"#,
        "1", "1/admin,", #"2["message:new",{"id":"m1","content":"Hallo 😀"}]"#, #"2["a"]"#, #"2["a",1,2.5,-3e2,true,false,null]"#,
        #"2/chat,["a",{"b":[1,{"c":"d"}]}]"#, #"212["ask",{"x":1}]"#, #"2/chat,0["ask"]"#, #"2 ["a"]"#.replacingOccurrences(of: " ", with: ""),
        #"2["a\"b\\c\u00e9\ud83d\ude00"]"#, #"2[ "a" , 1 ]"#, #"2["message:new",{"id":"m","o":{}},"offset-1"]"#, "30[]", #"31["ok",{"a":1}]"#,
        #"3/chat,7[null]"#, #"4{"message":"Unauthorized"}"#, #"4{"message":"x","data":{"code":401}}"#, #"4"Unable to connect""#,
        #"4/chat,{"message":"nope"}"#, #"51-["file",{"_placeholder":true,"num":0}]"#, #"52-/chat,3["f",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#,
        #"61-5[{"_placeholder":true,"num":0}]"#, "60-[]", #"2["typing:start",{"conversationId":"uuid"}]"#,
        // Rejected by both.
        "7", "8[]", "a", "-1", "/", "1{}", #"1["a"]"#, #"2{"a":1}"#, #"2"a""#, "2[]", "2[", #"2["a",]"#, #"2["a"] x"#, "2[\"a\"]]",
        "3{}", #"3"x""#, "3[", "4true", #"0"x""#, "0{", "0{\"a\":}", #"5["a"]"#, #"51["a"]"#, #"5x-["a"]"#, #"2[nul]"#,
        #"2["a",NaN]"#, #"2['a']"#, #"2["a",01]"#, #"2["\x"]"#, "2/chat,[", "4{\"message\":", #"2[{"a":1}]"#, #"2[true]"#, #"2[null]"#,
    ]

    /// Packets the JavaScript parser 4.2.1 lets through and ours rejects, with the reason.
    static let stricter: [(String, String)] = [
        ("", "empty packet (JS reads Number(\"\") as CONNECT)"),
        ("2", "EVENT without payload: socket.io-client would crash on packet.data"),
        ("3", "ACK without payload"),
        ("4", "CONNECT_ERROR without payload: socket.io-client reads packet.data.message"),
        ("2/chat", "EVENT without payload after a comma-less namespace"),
        ("41", "CONNECT_ERROR without payload, with an ack id"),
        ("4[1]", "CONNECT_ERROR payload must be an object or a string (JS accepts any typeof object)"),
        ("0[]", "CONNECT payload must be an object (newer parsers check isObject)"),
        ("0null", "CONNECT payload must be an object"),
        (#"2[1]"#, "event name must be a string"),
        (#"2["connect"]"#, "reserved event name (newer parsers reject it)"),
        (#"2["disconnecting",1]"#, "reserved event name"),
        (#"2 ["a"]"#, "whitespace before the payload (JS reads the space as ack id 0)"),
        (#"0/admin, {}"#, "whitespace before the payload"),
        (#"5-["a"]"#, "empty attachment count (JS reads 0)"),
        (#"29007199254740993["a"]"#, "ack id beyond 2^53 - 1 (JS rounds it)"),
        (#"2["\ud800"]"#, "lone surrogate in a \\u escape"),
        (#"2["a","# + String(repeating: "[", count: 130) + String(repeating: "]", count: 131), "nesting deeper than 128"),
    ]

    @Test(.enabled(if: OracleTests.available, "node or Debian's node-socket.io-parser is not installed"))
    func decoderAgreesWithTheOfficialParser() throws {
        let corpus = Self.agreed + Self.stricter.map(\.0)
        #expect(corpus.count >= 60)
        let results = try runOracle(corpus)
        try #require(results.count == corpus.count)
        for (index, text) in corpus.enumerated() {
            let oracle = results[index]
            let ours = Result { () throws(SocketIOError) in try SocketIOCodec.decode(Array(text.utf8)) }
            if index >= Self.agreed.count {
                let reason = Self.stricter[index - Self.agreed.count].1
                #expect(oracle["ok"] == true, "oracle no longer accepts \(text) (\(reason))")
                if case .success = ours { Issue.record("accepted \(text) (\(reason))") }
                continue
            }
            switch ours {
            case .failure(let error):
                #expect(oracle["ok"] == false, "we reject \(text) (\(error)) but the oracle accepts: \(oracle)")
            case .success(let packet):
                guard oracle["ok"] == true else {
                    Issue.record("we accept \(text) but the oracle says \(oracle)")
                    continue
                }
                #expect(oracle["type"]?.intValue == Int(packet.type.rawValue), "type of \(text)")
                #expect(oracle["nsp"]?.stringValue == packet.namespace, "nsp of \(text)")
                #expect(oracle["id"]?.intValue == packet.ackId, "id of \(text)")
                if packet.type.isBinary { #expect(oracle["attachments"]?.intValue == packet.attachments, "attachments of \(text)") }
                let ourData = try packet.payload.map { try JSONValue(parsing: $0) }
                #expect(ourData.map(canonical) == oracle["data"].map(canonical), "payload of \(text)")
            }
        }
    }

    private func runOracle(_ corpus: [String]) throws -> [JSONValue] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sio-oracle-\(ProcessInfo.processInfo.processIdentifier)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let corpusFile = directory.appendingPathComponent("corpus.jsonl")
        let lines = corpus.map { JSONValue.string($0).serialized() }.joined(separator: "\n") + "\n"
        try Data(lines.utf8).write(to: corpusFile)

        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Oracle/sio-oracle.js")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(Self.nodePath))
        process.arguments = [script.path, corpusFile.path]
        var environment = ProcessInfo.processInfo.environment
        environment["NODE_PATH"] = "/usr/share/nodejs"
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "oracle exited with \(process.terminationStatus)")
        return String(decoding: data, as: UTF8.self).split(separator: "\n").map { line in
            // JavaScript writes lone surrogates as \ud800, which our strict parser refuses.
            (try? JSONValue(parsing: String(line))) ?? ["ok": .bool(line.hasPrefix(#"{"ok":true"#)), "unparsed": .string(String(line))]
        }
    }

    /// Numbers compared by value (JavaScript re-serializes `-3e2` as `-300`).
    private func canonical(_ value: JSONValue) -> JSONValue {
        switch value {
        case .number: return .number(String(describing: value.doubleValue ?? .nan))
        case .array(let elements): return .array(elements.map(canonical))
        case .object(let object): return .object(JSONObject(object.map { ($0.key, canonical($0.value)) }))
        default: return value
        }
    }
}
