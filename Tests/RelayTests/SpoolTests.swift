import Diagnostics
import Foundation
import Testing
import TestSupport
import Transport
@testable import Relay

@Suite struct SpoolRecordTests {
    static let entry = SpoolEntry(id: "evt_1", tenant: "org", conversation: "c", route: "r", type: "message:new", hops: 2,
                                  enqueuedAtMs: 1_700_000_000_000, attributes: ["subject", "Hello ü", "to", "a@example.org"])
    static let records: [SpoolRecord] = [
        .enqueue(.init(entry: entry, payload: Array(#"{"x":"ü"}"#.utf8))),
        .done(position: SpoolPosition.make(segment: 3, offset: 4096)),
        .retry(position: 77, attempts: 3, nextAtMs: -5, reason: "HTTP 503"),
        .checkpoint(.init(cursor: SpoolPosition.make(segment: 2, offset: 12), behind: 5,
                          items: [.init(position: 9, attempts: 1, nextAtMs: 100, reason: "HTTP 500"), .init(position: 99, attempts: 0, nextAtMs: 0, reason: "")])),
        .dead(.init(entry: entry, attempts: 8, reason: "HTTP 400", payload: [1, 2, 3])),
    ]
    static let legacyRecords: [SpoolRecord] = [
        .enqueue(.init(entry: SpoolEntry(id: "evt_1", tenant: "org", conversation: "c", route: "r", type: "message:new", hops: 2,
                                         enqueuedAtMs: 1_700_000_000_000), payload: Array(#"{"x":"ü"}"#.utf8))),
        .legacyDone(id: "evt_1"),
        .legacyRetry(id: "evt_2", attempts: 3, nextAtMs: -5, reason: "HTTP 503"),
        .legacyDead(id: "evt_3", reason: "HTTP 400"),
        .legacyRevive(id: "evt_3"),
    ]

    @Test func roundTripsEveryKind() {
        for record in Self.records {
            var bytes: [UInt8] = []
            record.encode(into: &bytes)
            #expect(Array(bytes[0..<4]) == SpoolRecord.magic)
            #expect(SpoolRecord.decode(body: bytes[SpoolRecord.headerSize...]) == record)
        }
    }

    @Test func readsVersionOneRecords() {
        for record in Self.legacyRecords {
            var bytes: [UInt8] = []
            record.encodeLegacy(into: &bytes)
            #expect(Array(bytes[0..<4]) == SpoolRecord.legacyMagic)
            #expect(SpoolRecord.decode(body: bytes[SpoolRecord.headerSize...], legacy: true) == record)
        }
    }

    @Test func crc32cMatchesTheStandardCheckValue() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.reference(Array("123456789".utf8)) == 0xE306_9283)
        #if arch(x86_64)
        // Every x86-64 CPU of the last fifteen years has SSE 4.2: the checks above ran the instruction.
        #expect(CRC32C.hardware)
        #endif
    }

    @Test func theSlicedCRCAgreesWithTheBytewiseOneOnEveryLengthAndOffset() {
        var rng = SystemRandomNumberGenerator()
        let data = (0..<4200).map { _ in UInt8.random(in: 0...255, using: &rng) }
        for length in [0, 1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 1000, 4096, 4200] {
            for offset in [0, 1, 3] where offset + length <= data.count {
                let slice = Array(data[offset..<(offset + length)])
                #expect(CRC32C.checksum(slice) == CRC32C.reference(slice), "length \(length) offset \(offset)")
                #expect(slice.withUnsafeBytes { CRC32C.software($0) } == CRC32C.reference(slice), "table, length \(length) offset \(offset)")
                #expect(CRC32C.checksum(data[offset..<(offset + length)]) == CRC32C.reference(slice))
            }
        }
    }

    @Test func truncatedBodiesAreRejected() {
        var bytes: [UInt8] = []
        SpoolRecord.retry(position: 5, attempts: 1, nextAtMs: 2, reason: "r").encode(into: &bytes)
        let body = bytes[SpoolRecord.headerSize...]
        for cut in 1..<body.count { #expect(SpoolRecord.decode(body: body.dropLast(cut)) == nil) }
    }
}

@Suite struct SinkSpoolTests {
    let log = Logger(level: .error)

    func delivery(_ id: String, conversation: String = "c", payload: String = "{}") -> Delivery {
        Delivery(eventId: id, tenant: "org", route: "r", type: "message:new", conversationId: conversation,
                 payload: Array(payload.utf8), hops: 0)
    }

    @Test func survivesAReopenWithStateIntact() throws {
        let dir = try RepoPaths.temporaryDirectory("spool")
        do {
            let s = try SinkSpool(directory: dir, sink: "hooks", maxBytes: 1 << 20, log: log)
            for i in 1...4 { #expect(try s.enqueue(delivery("e\(i)", payload: "{\"n\":\(i)}"), nowMs: 10)) }
            try s.remove("e1", nowMs: 11)
            try s.scheduleRetry("e2", attempts: 2, nextAtMs: 500, reason: "HTTP 503", nowMs: 12)
            try s.deadLetter("e3", reason: "HTTP 400", nowMs: 13)
        }
        let s = try SinkSpool(directory: dir, sink: "hooks", maxBytes: 1 << 20, log: log)
        #expect(Array(s.orderedIDs) == ["e2", "e4"])
        #expect(s.item(id: "e2")?.attempts == 2 && s.item(id: "e2")?.nextAtMs == 500)
        let dead = try s.dead.all()
        #expect(dead.map(\.entry.id) == ["e3"] && dead.first?.reason == "HTTP 400")
        #expect(try s.delivery("e4")?.payload == Array("{\"n\":4}".utf8))
        #expect(s.corruptRecords == 0)
    }

    @Test(arguments: [4096, 1]) func aTornTailAndACorruptRecordAreSkippedAndTheRestSurvives(window: Int) throws {
        let dir = try RepoPaths.temporaryDirectory("spool")
        do {
            let s = try SinkSpool(directory: dir, sink: "p", maxBytes: 1 << 20, log: log)
            for i in 1...3 { _ = try s.enqueue(delivery("e\(i)", payload: "{\"payload\":\"\(String(repeating: "x", count: 40))\(i)\"}"), nowMs: 1) }
        }
        let file = dir + "/p/00000001.log"
        var data = try [UInt8](Data(contentsOf: URL(fileURLWithPath: file)))
        // Flip one payload byte of the second event (its checksum no longer matches) and tear the
        // file mid-record. (The first record of a segment is its checkpoint.)
        let second = (0..<data.count - 4).filter { Array(data[$0..<($0 + 4)]) == SpoolRecord.magic }[2]
        data[second + 40] ^= 0xFF
        data += SpoolRecord.magic + [200, 0, 0, 0, 1, 2]
        try Data(data).write(to: URL(fileURLWithPath: file))
        // With a window of one, the corrupt record is met by the read cursor, after recovery.
        let s = try SinkSpool(directory: dir, sink: "p", maxBytes: 1 << 20, windowLimit: window, log: log)
        var seen = s.orderedIDs + s.refill().compactMap { s.item($0)?.id }
        if window == 1 {
            #expect(s.pendingCount == 2)
            while let seq = s.orderedSeqs.first {
                try s.remove(seq, nowMs: 1)
                seen += s.refill().compactMap { s.item($0)?.id }
            }
            #expect(seen == ["e1", "e3"])
            #expect(s.corruptRecords == 2)
            return
        }
        #expect(seen == ["e1", "e3"])
        #expect(s.corruptRecords == 2)
        // New records append cleanly after the torn tail was cut off.
        _ = try s.enqueue(delivery("e4"), nowMs: 2)
        try s.flush()
        let again = try SinkSpool(directory: dir, sink: "p", maxBytes: 1 << 20, log: log)
        #expect(Array(again.orderedIDs) == ["e1", "e3", "e4"])
    }

    @Test func fullSegmentsRotateAndEmptyOnesAreDeleted() throws {
        let dir = try RepoPaths.temporaryDirectory("spool")
        let s = try SinkSpool(directory: dir, sink: "p", maxBytes: 1 << 20, segmentBytes: 200, log: log)
        for i in 1...10 { _ = try s.enqueue(delivery("e\(i)", payload: String(repeating: "y", count: 60)), nowMs: 1) }
        let before = try FileManager.default.contentsOfDirectory(atPath: dir + "/p").count
        #expect(before > 3)
        for i in 1...9 { try s.remove("e\(i)", nowMs: 2) }
        try s.flush()
        let after = try FileManager.default.contentsOfDirectory(atPath: dir + "/p").count
        #expect(after < before)
        #expect(Array(try SinkSpool(directory: dir, sink: "p", maxBytes: 1 << 20, segmentBytes: 200, log: log).orderedIDs) == ["e10"])
    }

    @Test func theSpoolIsBounded() throws {
        let dir = try RepoPaths.temporaryDirectory("spool")
        let s = try SinkSpool(directory: dir, sink: "p", maxBytes: 500, log: log)
        var accepted = 0
        for i in 1...20 where try s.enqueue(delivery("e\(i)", payload: String(repeating: "z", count: 50)), nowMs: 1) { accepted += 1 }
        #expect(accepted > 0 && accepted < 20)
        #expect(s.bytes <= 500)
    }

    @Test func theByteCountFollowsTheFilesThroughRotationsAndDeletions() throws {
        let dir = try RepoPaths.temporaryDirectory("spool")
        let s = try SinkSpool(directory: dir, sink: "p", maxBytes: 1 << 20, segmentBytes: 300, log: log)
        func onDisk() throws -> Int {
            try FileManager.default.contentsOfDirectory(atPath: dir + "/p").reduce(0) {
                $0 + ((try FileManager.default.attributesOfItem(atPath: dir + "/p/" + $1)[.size] as? Int) ?? 0)
            }
        }
        for i in 1...12 { _ = try s.enqueue(delivery("e\(i)", conversation: "c\(i % 3)", payload: String(repeating: "q", count: 70)), nowMs: 1) }
        try s.flush()
        #expect(s.bytes == (try onDisk()))
        // Out of order, so that some segments empty (and go) while others stay.
        for i in [2, 5, 1, 3, 4, 8, 6] { try s.remove("e\(i)", nowMs: 2) }
        try s.flush()
        #expect(s.bytes == (try onDisk()))
        let reopened = try SinkSpool(directory: dir, sink: "p", maxBytes: 1 << 20, segmentBytes: 300, log: log)
        #expect(reopened.bytes == (try onDisk()))
        #expect(reopened.orderedIDs == ["e7", "e9", "e10", "e11", "e12"])
    }

    @Test func aRepeatedEventIsSpooledOnce() throws {
        let s = SinkSpool(memoryFor: "p", maxBytes: 1 << 20, log: log)
        _ = try s.enqueue(delivery("same"), nowMs: 1)
        _ = try s.enqueue(delivery("same"), nowMs: 2)
        #expect(s.orderedIDs.count == 1)
    }
}
