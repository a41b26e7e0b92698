import Glibc
@testable import Transport

/// Starts a joinable pthread running `body` (tests only).
func spawnThread(_ body: @escaping @Sendable () -> Void) throws -> pthread_t {
    final class Box { let body: @Sendable () -> Void; init(_ b: @escaping @Sendable () -> Void) { body = b } }
    let raw = Unmanaged.passRetained(Box(body)).toOpaque()
    var thread = pthread_t()
    let rc = pthread_create(&thread, nil, { arg in
        let box = Unmanaged<Box>.fromOpaque(arg!).takeRetainedValue()
        box.body()
        return nil
    }, raw)
    if rc != 0 {
        Unmanaged<Box>.fromOpaque(raw).release()
        throw IOError(errno: rc, function: "pthread_create")
    }
    return thread
}
