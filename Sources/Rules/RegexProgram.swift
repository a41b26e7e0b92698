/// A compiled `content` pattern, run by a Thompson NFA simulation (a Pike VM without
/// captures): every match costs at most (text length + 1) x (program size) steps, whatever the
/// pattern, so no message can make routing backtrack for minutes.
///
/// Matching is on Unicode scalars and follows Python's `re` on `str` (the oracle of the
/// tests): `.` is any scalar but `\n`, `$` also matches before a final `\n`, `\d \w \s` are
/// Unicode-aware, `i` compares simple one-scalar case mappings.
struct RegexProgram: Sendable {
    enum Instruction: Sendable {
        case scalar(Unicode.Scalar)
        case scalarFolded(Unicode.Scalar)
        case any(dotAll: Bool)
        case set(Int)
        case assertion(RegexAssertion)
        case split(Int, Int)
        case jump(Int)
        case match
    }

    /// Largest program accepted; bounds the cost of one step of the simulation.
    static let maxInstructions = 10_000

    private(set) var instructions: [Instruction] = []
    private(set) var sets: [ScalarSet] = []

    /// Compiles `pattern` with `flags` (a subset of `imsx`).
    init(pattern: String, flags: String) throws(RegexSyntaxError) {
        let node = try RegexParser.parse(pattern, flags: flags)
        try emit(node)
        instructions.append(.match)
    }

    private mutating func append(_ instruction: Instruction) throws(RegexSyntaxError) {
        guard instructions.count < RegexProgram.maxInstructions else {
            throw RegexSyntaxError(offset: 0, message: "regular expression too large (over \(RegexProgram.maxInstructions) steps once repeats are expanded)",
                                   hint: "use smaller {n,m} counts")
        }
        instructions.append(instruction)
    }

    private mutating func emit(_ node: RegexNode) throws(RegexSyntaxError) {
        switch node {
        case .empty: break
        case .scalar(let c, let fold):
            try append(fold ? .scalarFolded(ScalarSet.lower(c)) : .scalar(c))
        case .any(let dotAll): try append(.any(dotAll: dotAll))
        case .set(let set):
            sets.append(set)
            try append(.set(sets.count - 1))
        case .assertion(let a): try append(.assertion(a))
        case .concat(let items):
            for item in items { try emit(item) }
        case .alternation(let branches):
            // split(b1, next) b1 jump(end) split(b2, next) b2 jump(end) ... bN
            var jumps: [Int] = []
            for (i, branch) in branches.enumerated() {
                if i < branches.count - 1 {
                    let split = instructions.count
                    try append(.split(split + 1, 0))
                    try emit(branch)
                    jumps.append(instructions.count)
                    try append(.jump(0))
                    instructions[split] = .split(split + 1, instructions.count)
                } else {
                    try emit(branch)
                }
            }
            for j in jumps { instructions[j] = .jump(instructions.count) }
        case .repetition(let body, let min, let max):
            for _ in 0..<min { try emit(body) }
            if let max {
                // Each optional copy: split(copy, end) copy; all exits lead to the same end.
                var splits: [Int] = []
                for _ in min..<max {
                    splits.append(instructions.count)
                    try append(.split(0, 0))
                    try emit(body)
                }
                for s in splits { instructions[s] = .split(s + 1, instructions.count) }
            } else {
                let loop = instructions.count
                try append(.split(loop + 1, 0))
                try emit(body)
                try append(.jump(loop))
                instructions[loop] = .split(loop + 1, instructions.count)
            }
        }
    }
}

extension RegexProgram {
    /// Whether the pattern matches anywhere in `text`.
    func matches(_ text: String) -> Bool { run(text).matched }

    /// The match and the number of steps the simulation took (for tests of the linear bound).
    func run(_ text: String) -> (matched: Bool, steps: Int) {
        let input = Array(text.unicodeScalars)
        var simulation = Simulation(program: self, input: input)
        return (simulation.run(), simulation.steps)
    }
}

/// One run of the NFA over a text: the thread lists of the current and next positions.
private struct Simulation {
    let program: RegexProgram
    let input: [Unicode.Scalar]
    var steps = 0
    /// `marks[pc] == generation` when `pc` is already in the list being built.
    private var marks: [Int]
    private var stack: [Int] = []

    init(program: RegexProgram, input: [Unicode.Scalar]) {
        self.program = program
        self.input = input
        self.marks = Array(repeating: -1, count: program.instructions.count)
    }

    mutating func run() -> Bool {
        var current: [Int] = []
        var next: [Int] = []
        current.reserveCapacity(program.instructions.count)
        next.reserveCapacity(program.instructions.count)
        for position in 0...input.count {
            // A new thread starts at every position: the search is unanchored.
            if add(0, at: position, to: &current) { return true }
            if position == input.count { break }
            let c = input[position]
            next.removeAll(keepingCapacity: true)
            for pc in current {
                steps += 1
                if consumes(program.instructions[pc], c), add(pc + 1, at: position + 1, to: &next) { return true }
            }
            swap(&current, &next)
        }
        return false
    }

    private func consumes(_ instruction: RegexProgram.Instruction, _ c: Unicode.Scalar) -> Bool {
        switch instruction {
        case .scalar(let s): return s == c
        case .scalarFolded(let lower): return ScalarSet.equalFolded(lower, c)
        case .any(let dotAll): return dotAll || c != "\n"
        case .set(let i): return program.sets[i].contains(c)
        default: return false
        }
    }

    /// Adds `pc` and everything reachable from it without consuming to `list`; true on a match.
    private mutating func add(_ start: Int, at position: Int, to list: inout [Int]) -> Bool {
        let generation = position
        stack.append(start)
        while let pc = stack.popLast() {
            steps += 1
            if marks[pc] == generation { continue }
            marks[pc] = generation
            switch program.instructions[pc] {
            case .match:
                stack.removeAll()
                return true
            case .jump(let target): stack.append(target)
            case .split(let a, let b):
                stack.append(b)
                stack.append(a)
            case .assertion(let a):
                if holds(a, at: position) { stack.append(pc + 1) }
            default:
                list.append(pc)
            }
        }
        return false
    }

    private func holds(_ assertion: RegexAssertion, at position: Int) -> Bool {
        let n = input.count
        switch assertion {
        case .textStart: return position == 0
        case .textEnd: return position == n
        case .textEndOrFinalNewline: return position == n || (position == n - 1 && input[position] == "\n")
        case .lineStart: return position == 0 || input[position - 1] == "\n"
        case .lineEnd: return position == n || input[position] == "\n"
        case .wordBoundary, .notWordBoundary:
            let before = position > 0 && ScalarSet.isWord(input[position - 1])
            let after = position < n && ScalarSet.isWord(input[position])
            return (before != after) == (assertion == .wordBoundary)
        }
    }
}
