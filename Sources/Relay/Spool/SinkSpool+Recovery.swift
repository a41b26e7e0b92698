import Transport

extension SinkSpool {
    /// Reads every segment in order and rebuilds the items; a torn tail is cut off, a corrupt
    /// record is skipped (the next one is found by its magic), each with one log line.
    func recover() throws(IOError) {
        guard let directory else { return }
        let names: [String]
        switch DirectoryReader.list(path: directory) {
        case .success(let n): names = n
        case .failure(let e): throw e
        }
        let sequences = names.compactMap { name -> Int? in
            guard name.hasSuffix(".log"), name.count == 12 else { return nil }
            return Int(name.dropLast(4))
        }.sorted()
        var pendingRecords: [SpoolRecord] = []
        for seq in sequences {
            let file = try SpoolFile(path: path(of: seq))
            let data = try file.read(offset: 0, count: file.size)
            var found: [Item] = []
            var at = 0
            var goodEnd = 0
            while at < data.count {
                guard let (record, length) = parse(data, at: at) else {
                    // Torn or corrupt: find the next record by its magic.
                    guard let next = findMagic(data, from: at + 1) else {
                        if data.count - at > 0 {
                            log.warn("spool: torn record at the end of a segment; cut off",
                                     [("sink", sink), ("file", path(of: seq)), ("offset", String(at)), ("bytes", String(data.count - at))])
                            countCorrupt()
                        }
                        break
                    }
                    log.warn("spool: corrupt record skipped", [("sink", sink), ("file", path(of: seq)), ("offset", String(at)),
                                                                ("skipped_bytes", String(next - at))])
                    countCorrupt()
                    at = next
                    continue
                }
                if case .enqueue(let e) = record {
                    let payloadOffset = at + length - e.payload.count
                    found.append(Item(entry: e.entry, segment: seq, payloadOffset: payloadOffset, payloadLength: e.payload.count))
                } else {
                    pendingRecords.append(record)
                }
                at += length
                goodEnd = at
            }
            if goodEnd < file.size && findMagic(data, from: goodEnd) == nil { try file.truncate(to: goodEnd) }
            adopt(segment: seq, file: file, items: found)
            // State changes apply in file order after their enqueue was seen (an item's records
            // are always written after its enqueue).
            for r in pendingRecords { applyAfterRecovery(r) }
            pendingRecords.removeAll()
        }
        finishRecovery()
        if corruptRecords > 0 || !isEmpty {
            log.info("spool recovered", [("sink", sink), ("pending", String(pendingCount)), ("dead", String(deadCount)),
                                         ("corrupt_records", String(corruptRecords))])
        }
    }

    /// A record at `at` and its total length, or nil when it is torn or corrupt.
    private func parse(_ data: [UInt8], at: Int) -> (SpoolRecord, Int)? {
        let h = SpoolRecord.headerSize
        guard data.count - at >= h, Array(data[at..<(at + 4)]) == SpoolRecord.magic else { return nil }
        var length = 0
        for i in 0..<4 { length |= Int(data[at + 4 + i]) << (8 * i) }
        var crc: UInt32 = 0
        for i in 0..<4 { crc |= UInt32(data[at + 8 + i]) << UInt32(8 * i) }
        guard length > 0, length <= SpoolRecord.maxBodySize, data.count - at - h >= length else { return nil }
        let body = data[(at + h)..<(at + h + length)]
        guard CRC32C.checksum(body) == crc, let record = SpoolRecord.decode(body: body) else { return nil }
        return (record, h + length)
    }

    private func findMagic(_ data: [UInt8], from: Int) -> Int? {
        guard from < data.count else { return nil }
        var i = from
        let m = SpoolRecord.magic
        while i + 4 <= data.count {
            if data[i] == m[0] && data[i + 1] == m[1] && data[i + 2] == m[2] && data[i + 3] == m[3] { return i }
            i += 1
        }
        return nil
    }
}
