import Crypto
import Rules
#if canImport(Glibc)
import Glibc
#endif

/// What identifies one version of a file: a rotation (rename over, or rewrite) changes the
/// inode, the size or the modification time. One `stat(2)`, no read.
struct FileStamp: Equatable {
    var device: UInt64
    var inode: UInt64
    var size: Int64
    var seconds: Int
    var nanoseconds: Int

    /// The stamp of `path` now; nil when it cannot be stat'ed (the read that follows says why).
    static func of(_ path: String) -> FileStamp? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return FileStamp(device: UInt64(st.st_dev), inode: UInt64(st.st_ino), size: Int64(st.st_size),
                         seconds: Int(st.st_mtim.tv_sec), nanoseconds: Int(st.st_mtim.tv_nsec))
    }
}

/// A webhook sink's signing keys, kept current: a `file:` secret is re-read when its file
/// changes (one `stat` per delivery), so a rotated key signs from the next delivery on, as
/// GRAMMAR.md promises for file references; `env:` secrets are read once (the environment of a
/// running process does not change).
final class SigningKeys {
    private let refs: [SecretRef]
    private var stamps: [FileStamp?]
    private var texts: [String]
    /// The keys in force (nil when the sink has no secret).
    private(set) var signer: StandardWebhooks.Signer?
    /// Times the keys were read again after a file changed (tests, logs).
    private(set) var reloads = 0

    /// Reads every secret now; throws why one cannot be used.
    init(_ refs: [SecretRef]) throws(SecretError) {
        self.refs = refs
        stamps = refs.map(Self.stamp)
        texts = []
        for ref in refs {
            switch SecretResolver.value(of: ref) {
            case .failure(let e): throw SecretError("secret \(ref): \(e.description)")
            case .success(let text): texts.append(text)
            }
        }
        signer = try Self.signer(refs, texts)
    }

    var isEmpty: Bool { refs.isEmpty }

    private static func stamp(_ ref: SecretRef) -> FileStamp? {
        if case .file(let path) = ref { return FileStamp.of(path) }
        return nil
    }

    private static func signer(_ refs: [SecretRef], _ texts: [String]) throws(SecretError) -> StandardWebhooks.Signer? {
        guard !texts.isEmpty else { return nil }
        var secrets: [WebhookSecret] = []
        for (ref, text) in zip(refs, texts) {
            do { secrets.append(try WebhookSecret(text)) } catch { throw SecretError("secret \(ref): \(error.description)") }
        }
        do { return try StandardWebhooks.Signer(secrets: secrets) } catch {
            throw SecretError("cannot prepare the signing keys: \(error.description)")
        }
    }

    /// The signer for the next delivery: the same one unless a secret file changed, then one
    /// built from the new contents. A changed file that cannot be read or holds no valid key
    /// is an error (the delivery is retried later): never signed with a key being rotated out.
    func current() -> Result<StandardWebhooks.Signer?, SecretError> {
        var changed = false
        var newStamps = stamps
        for (i, ref) in refs.enumerated() {
            guard case .file = ref else { continue }
            let now = Self.stamp(ref)
            if now == nil || now != stamps[i] { changed = true; newStamps[i] = now }
        }
        guard changed else { return .success(signer) }
        var newTexts: [String] = []
        for ref in refs {
            switch SecretResolver.value(of: ref) {
            case .failure(let e): return .failure(SecretError("secret \(ref): \(e.description)"))
            case .success(let text): newTexts.append(text)
            }
        }
        if newTexts == texts {
            stamps = newStamps
            return .success(signer)
        }
        do {
            signer = try Self.signer(refs, newTexts)
        } catch {
            return .failure(error)
        }
        texts = newTexts
        stamps = newStamps
        reloads += 1
        return .success(signer)
    }
}
