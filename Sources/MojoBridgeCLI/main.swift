#if canImport(Glibc)
import Glibc
#endif

// A write to a dead child or socket must surface as EPIPE, not kill the daemon with exit 141.
signal(SIGPIPE, SIG_IGN)

let code = CommandLine.run(Array(CommandLine.arguments.dropFirst()))
exit(code.rawValue)
