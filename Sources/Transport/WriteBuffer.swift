/// Bytes waiting to be written: one growing array with a read index.
///
/// Appends copy into spare capacity and consuming only moves the index, so a stream in the
/// steady state (buffer filled and drained repeatedly) does not allocate. The storage is
/// compacted when the consumed prefix dominates and reset (capacity kept) when it empties.
struct WriteBuffer {
    private var storage: [UInt8] = []
    private var readIndex = 0

    /// Bytes not yet consumed.
    var count: Int { storage.count - readIndex }

    /// Whether every appended byte has been consumed.
    var isEmpty: Bool { readIndex == storage.count }

    /// Copies `bytes` to the end.
    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty else { return }
        if readIndex > 0 && readIndex >= storage.count / 2 && readIndex >= 4096 {
            storage.removeSubrange(0..<readIndex)
            readIndex = 0
        }
        storage.append(contentsOf: bytes.bindMemory(to: UInt8.self))
    }

    /// Calls `body` with the unconsumed bytes (valid only during the call).
    func withUnreadBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try storage.withUnsafeBytes { all in
            try body(UnsafeRawBufferPointer(rebasing: all[readIndex...]))
        }
    }

    /// Marks the first `byteCount` unread bytes as written.
    mutating func consume(_ byteCount: Int) {
        readIndex += min(byteCount, count)
        if readIndex == storage.count {
            storage.removeAll(keepingCapacity: true)
            readIndex = 0
        }
    }

    /// Hands the unread bytes to `write` (bytes written, 0 when the descriptor would block, nil
    /// after an error it has reported) until it is empty or blocks, at most `rounds` times: bounded
    /// per event for fairness; level-triggered EPOLLOUT brings the caller back. False on error.
    mutating func drain(rounds: Int = 16, _ write: (UnsafeRawBufferPointer) -> Int?) -> Bool {
        for _ in 0..<rounds where !isEmpty {
            guard let written = withUnreadBytes(write) else { return false }
            if written == 0 { break }
            consume(written)
        }
        return true
    }

    /// Drops all bytes and frees the storage.
    mutating func reset() {
        storage = []
        readIndex = 0
    }
}
