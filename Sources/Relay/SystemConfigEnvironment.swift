import Rules
import Transport
#if canImport(Glibc)
import Glibc
#endif

extension ConfigEnvironment {
    /// The real file system and process environment.
    public static let system: ConfigEnvironment = {
        var env = ConfigEnvironment(
            readFile: { path in
                FileReader.read(path: path, maxBytes: 4 << 20, regularFileOnly: true).mapError { AccessError(Self.reason($0)) }
            },
            listDirectory: { path in
                DirectoryReader.list(path: path).mapError { AccessError(Self.reason($0)) }
            },
            environment: { name in getenv(name).map { String(cString: $0) } }
        )
        env.isExecutable = { path in
            var st = stat()
            return stat(path, &st) == 0 && (st.st_mode & UInt32(S_IFMT)) == UInt32(S_IFREG) && access(path, X_OK) == 0
        }
        return env
    }()

    private static func reason(_ e: IOError) -> String {
        if e.function == FileReader.notRegularFile, e.errno != EISDIR { return "not a regular file (a FIFO, socket or device)" }
        return String(cString: strerror(e.errno))
    }
}
