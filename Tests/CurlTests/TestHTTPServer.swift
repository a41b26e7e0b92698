import Glibc
import TestSupport
@testable import Transport

/// The HTTP peer for these tests: Python's `http.server` (HTTP/1.1, keep-alive, threaded) with
/// a few routes, started on a kernel-chosen 127.0.0.1 port. Ready once it printed `READY <port>`.
final class TestHTTPServer {
    static let script = #"""
import http.server, socketserver, sys, threading, time, urllib.parse

barrier_lock = threading.Condition()
barrier_count = {}

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *args): pass
    def reply(self, status, body, headers=()):
        self.send_response(status)
        for name, value in headers: self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        query = urllib.parse.parse_qs(url.query)
        if url.path == "/hello":
            self.reply(200, b"hello", [("X-Test", "yes"), ("X-Seen-Custom", self.headers.get("X-Custom", ""))])
        elif url.path == "/port":
            self.reply(200, str(self.client_address[1]).encode())
        elif url.path == "/delay":
            time.sleep(int(query["ms"][0]) / 1000)
            self.reply(200, b"late")
        elif url.path == "/barrier":
            # Answers 200 only once `n` requests with the same `key` are in flight together
            # (proof of concurrency without a clock); 504 if they never are within 20 s.
            key, n = query["key"][0], int(query["n"][0])
            with barrier_lock:
                barrier_count[key] = barrier_count.get(key, 0) + 1
                barrier_lock.notify_all()
                met = barrier_lock.wait_for(lambda: barrier_count[key] >= n, timeout=20)
            self.reply(200 if met else 504, b"together" if met else b"alone")
        elif url.path == "/big":
            self.reply(200, b"x" * int(query["n"][0]))
        elif url.path == "/chunked":
            n = int(query["n"][0])
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            chunk = b"y" * 65536
            while n > 0:
                part = chunk[:min(n, len(chunk))]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                n -= len(part)
            self.wfile.write(b"0\r\n\r\n")
        elif url.path == "/redirect":
            self.reply(302, b"", [("Location", "/hello")])
        else:
            self.reply(404, b"not found")
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.reply(201, body, [("X-Method", self.command), ("X-Content-Type", self.headers.get("Content-Type", ""))])

class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True

server = Server(("127.0.0.1", 0), Handler)
print("READY", server.server_address[1], flush=True)
server.serve_forever()
"""#

    let pid: pid_t
    let port: Int
    private let stdoutFD: Int32
    private let directory: String

    /// Writes the script to a temporary directory, starts python3 and waits for `READY`.
    init() throws {
        var template = Array("/tmp/mojo-http-XXXXXX".utf8CString)
        guard let dir = mkdtemp(&template) else { throw IOError(errno: errno, function: "mkdtemp") }
        directory = String(cString: dir)
        let path = directory + "/server.py"
        guard let file = fopen(path, "w") else { throw IOError(errno: errno, function: "fopen") }
        fputs(Self.script, file)
        fclose(file)

        var out: [Int32] = [0, 0]
        guard pipe(&out) == 0 else { throw IOError(errno: errno, function: "pipe") }
        for fd in out { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        let spawned = spawnTestChild(["python3", "-u", path], stdin: nil, stdout: out[1])
        close(out[1])
        let pid: pid_t
        switch spawned {
        case .success(let p): pid = p
        case .failure(let e):
            close(out[0])
            throw IOError(errno: e.errno, function: "posix_spawnp python3")
        }
        self.pid = pid
        stdoutFD = out[0]
        // Wait (bounded) for "READY <port>\n".
        var line: [UInt8] = []
        let deadline = Deadline.now().adding(milliseconds: 15_000)
        while !line.contains(10) {
            let remaining = Deadline.now().milliseconds(until: deadline)
            var poller = pollfd(fd: stdoutFD, events: Int16(POLLIN), revents: 0)
            guard remaining > 0, poll(&poller, 1, Int32(remaining)) > 0 else { break }
            var chunk = [UInt8](repeating: 0, count: 256)
            let n = read(stdoutFD, &chunk, chunk.count)
            if n <= 0 { break }
            line.append(contentsOf: chunk[..<n])
        }
        let text = String(decoding: line, as: UTF8.self)
        guard text.hasPrefix("READY "), let port = Int(text.dropFirst(6).prefix { $0.isNumber }) else {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
            close(stdoutFD)
            throw IOError(errno: 0, function: "python3 http server did not start: \(text)")
        }
        self.port = port
    }

    deinit {
        kill(pid, SIGTERM)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        close(stdoutFD)
        unlink(directory + "/server.py")
        rmdir(directory)
    }

    /// `http://127.0.0.1:<port><path>`.
    func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }
}
