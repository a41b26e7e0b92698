/// A first-in first-out buffer over an array with a moving head: O(1) amortised at both ends
/// (`Array.removeFirst` is O(n), which made large pipe windows quadratic).
struct FIFO<Element> {
    private var storage: [Element] = []
    private var head = 0

    var count: Int { storage.count - head }
    var isEmpty: Bool { head == storage.count }
    var first: Element? { isEmpty ? nil : storage[head] }

    /// The element `i` places from the front.
    subscript(i: Int) -> Element { storage[head + i] }

    mutating func append(_ e: Element) { storage.append(e) }

    mutating func popFirst() -> Element? {
        guard !isEmpty else { return nil }
        defer {
            head += 1
            compact()
        }
        return storage[head]
    }

    mutating func popLast() -> Element? {
        guard !isEmpty else { return nil }
        return storage.popLast()
    }

    /// Puts `elements` back at the front, in their order.
    mutating func prepend(_ elements: [Element]) {
        storage.replaceSubrange(0..<head, with: elements)
        head = 0
    }

    mutating func removeAll() {
        storage.removeAll(keepingCapacity: true)
        head = 0
    }

    /// The elements front to back.
    var elements: ArraySlice<Element> { storage[head...] }

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
