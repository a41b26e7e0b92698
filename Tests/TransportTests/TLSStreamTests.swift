import Foundation
import TestSupport
import Glibc
import Testing
@testable import Transport

@Suite struct TLSStreamTests {
    /// Connects to a fresh s_server; returns the recorder after the loop stopped.
    private func exchange(host: String, tls: TLSConfiguration, send: String? = nil,
                          expectBytes: Int = 0) throws -> (Recorder, ByteStream) {
        let pki = try #require(TestPKI.shared)
        let (server, port) = try #require(try pki.startServer())
        defer { server.terminate() }
        let loop = try EventLoop()
        let recorder = Recorder()
        recorder.onConnect = { stream in
            if let send { stream.write(Array(send.utf8)) } else { stream.close() }
        }
        recorder.onRead = { stream in
            if recorder.received.count >= expectBytes { stream.close() }
        }
        recorder.onClose = { _ in loop.stop() }
        let stream = ByteStream.connect(host: host, port: port, tls: tls, on: loop, delegate: recorder)
        try runLoop(loop)
        return (recorder, stream)
    }

    @Test func verifiedHandshakeNegotiatesALPNAndEchoes() throws {
        let pki = try #require(TestPKI.shared)
        let (recorder, stream) = try exchange(host: "localhost", tls: TLSConfiguration(caFile: pki.caFile),
                                              send: "hello tls\n", expectBytes: 10)
        #expect(recorder.connects == 1)
        #expect(stream.negotiatedALPN == "http/1.1")
        #expect(String(decoding: recorder.received, as: UTF8.self) == "slt olleh\n")
        #expect(recorder.closes.count == 1)
        #expect(recorder.closes.first! == nil)
    }

    @Test func ipLiteralIsVerifiedAgainstTheIPSubjectAltName() throws {
        let pki = try #require(TestPKI.shared)
        let (recorder, _) = try exchange(host: "127.0.0.1", tls: TLSConfiguration(caFile: pki.caFile))
        #expect(recorder.connects == 1)
        #expect(recorder.closes.first! == nil)
    }

    @Test func unknownCAFailsVerificationWithTheReason() throws {
        let (recorder, _) = try exchange(host: "localhost", tls: TLSConfiguration())
        let error = try #require(recorder.closes.first ?? nil)
        #expect(recorder.connects == 0)
        #expect(error.kind == .tls)
        #expect(error.message.hasPrefix("certificate verify failed: "))
        #expect(error.message.contains("issuer") || error.message.contains("self-signed"))
    }

    @Test func hostnameMismatchFailsVerification() throws {
        let pki = try #require(TestPKI.shared)
        let tls = TLSConfiguration(caFile: pki.caFile, serverName: "wrong.example")
        let (recorder, _) = try exchange(host: "127.0.0.1", tls: tls)
        let error = try #require(recorder.closes.first ?? nil)
        #expect(error.kind == .tls)
        #expect(error.message == "certificate verify failed: hostname mismatch")
    }

    @Test func verificationCanBeDisabled() throws {
        let (recorder, _) = try exchange(host: "localhost", tls: TLSConfiguration(verifyPeer: false))
        #expect(recorder.connects == 1)
    }

    @Test func missingCAFileIsATLSError() throws {
        let loop = try EventLoop()
        let listener = try TestListener()
        defer { listener.close() }
        let recorder = Recorder()
        recorder.onClose = { _ in loop.stop() }
        _ = ByteStream.connect(host: "127.0.0.1", port: listener.port,
                               tls: TLSConfiguration(caFile: "/nonexistent/ca.pem"), on: loop, delegate: recorder)
        try runLoop(loop)
        let error = try #require(recorder.closes.first ?? nil)
        #expect(error.kind == .tls)
        #expect(error.message.contains("/nonexistent/ca.pem"))
    }

    @Test func alpnWireFormat() {
        #expect(TLSContext.alpnWireFormat(["h2", "http/1.1"]) == [2] + Array("h2".utf8) + [8] + Array("http/1.1".utf8))
        #expect(TLSContext.alpnWireFormat([""]) == nil)
    }
}

@Suite struct SystemCADirectoryTests {
    @Test func hashedCertificateNamesAreRecognised() {
        for name in ["9d04f354.0", "002c0b4f.12"] { #expect(TLSContext.isHashedCertificateName(name), "\(name)") }
        for name in ["9d04f354", "9D04F354.0", "9d04f35.0", "9d04f354.x", "ca-certificates.crt", "9d04f354.0.pem"] {
            #expect(!TLSContext.isHashedCertificateName(name), "\(name)")
        }
    }

    @Test func aDirectoryWithoutHashedLinksIsNotUsed() throws {
        let empty = try RepoPaths.temporaryDirectory("mojo-nocerts")
        _ = FileManager.default.createFile(atPath: empty + "/bundle.pem", contents: Data("x".utf8))
        #expect(!TLSContext.hasHashedCertificates(empty))
        #expect(!TLSContext.hasHashedCertificates(empty + "/missing"))
        _ = FileManager.default.createFile(atPath: empty + "/9d04f354.0", contents: Data("x".utf8))
        #expect(TLSContext.hasHashedCertificates(empty))
    }
}
