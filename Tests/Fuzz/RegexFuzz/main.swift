// libFuzzer entry for the linear-time `content` matcher (Sources/Rules/Regex*.swift).
// Built by Tests/Fuzz/run.sh together with Sources/Rules/*.swift and Tests/Fuzz/Common/*.swift.

/// The input is `flags \n pattern \n text` (missing parts are empty; flags keep only `imsx`).
/// Compiling must not crash; a compiled pattern must run on the text within the linear bound
/// (text length + 1) x (4 x program size + 2) steps, and give the same answer twice.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    guard let input = String(validating: bytes, as: UTF8.self) else { return 0 }
    let parts = input.split(separator: "\n", maxSplits: 2, omittingEmptySubsequences: false)
    let flags = String(String(parts[0]).unicodeScalars.filter { "imsx".unicodeScalars.contains($0) })
    let pattern = parts.count > 1 ? String(parts[1]) : ""
    let text = parts.count > 2 ? String(parts[2]) : ""
    guard let program = try? RegexProgram(pattern: pattern, flags: flags) else { return 0 }
    let run = program.run(text)
    let bound = (text.unicodeScalars.count + 1) * (4 * program.instructions.count + 2)
    guard run.steps <= bound else { fuzzFailure("\(run.steps) steps over the bound \(bound) for /\(pattern)/\(flags)") }
    guard program.matches(text) == run.matched else { fuzzFailure("two answers for the same text") }
    return 0
}
