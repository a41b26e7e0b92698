/// A first-in first-out buffer over an array with a moving head: O(1) amortised at both ends
/// (`Array.removeFirst` is O(n), which made large pipe windows quadratic). A popped slot is
/// cleared at once: what an element holds (a delivery's payload) is freed when it leaves, not
/// when the array is next compacted.
struct FIFO<Element> {
    private var storage: [Element?] = []
    private var head = 0

    var count: Int { storage.count - head }
    var isEmpty: Bool { head == storage.count }
    var first: Element? { isEmpty ? nil : storage[head] }

    /// The element `i` places from the front.
    subscript(i: Int) -> Element { storage[head + i]! }

    mutating func append(_ e: Element) { storage.append(e) }

    mutating func popFirst() -> Element? {
        guard !isEmpty else { return nil }
        let e = storage[head].take()
        head += 1
        compact()
        return e
    }

    mutating func popLast() -> Element? {
        guard !isEmpty else { return nil }
        return storage.popLast() ?? nil
    }

    /// Puts `elements` back at the front, in their order.
    mutating func prepend(_ elements: [Element]) {
        storage.replaceSubrange(0..<head, with: elements.map { Optional($0) })
        head = 0
    }

    mutating func removeAll() {
        storage.removeAll(keepingCapacity: true)
        head = 0
    }

    /// The elements front to back.
    var elements: LazyMapSequence<ArraySlice<Element?>, Element> { storage[head...].lazy.map { $0! } }

    private mutating func compact() {
        if head == storage.count {
            storage.removeAll(keepingCapacity: true)
            head = 0
        } else if head > 1024 && head * 2 > storage.count {
            storage.removeFirst(head)
            head = 0
        }
    }
}
