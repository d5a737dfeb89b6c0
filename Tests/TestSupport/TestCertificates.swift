import Foundation
import Testing

/// Certificates made for the TLS tests with the `openssl` CLI, once per test process, in a fresh
/// directory: a CA and a server certificate it signed (for `localhost` and 127.0.0.1), the same
/// server key in a certificate that expired in 2020 and in a renewed one, a second CA that signed nothing the servers
/// present, and a client certificate the first CA signed.
public struct TestCertificates: Sendable {
    public let directory: String
    public var ca: String { "\(directory)/ca.crt" }
    public var otherCA: String { "\(directory)/other-ca.crt" }
    public var serverCertificate: String { "\(directory)/server.crt" }
    public var serverKey: String { "\(directory)/server.key" }
    public var expiredServerCertificate: String { "\(directory)/expired.crt" }
    /// The server key in a second valid certificate (another serial): what a renewal installs.
    public var renewedServerCertificate: String { "\(directory)/renewed.crt" }
    public var clientCertificate: String { "\(directory)/client.crt" }
    public var clientKey: String { "\(directory)/client.key" }
    /// The client key in a certificate the other CA signed (a stranger to `ca`).
    public var strangerClientCertificate: String { "\(directory)/stranger.crt" }

    /// Made on first use; a missing or failing `openssl` is a test failure.
    public static let shared = TestCertificates()

    private init() {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("gateway-tls-\(UUID().uuidString)").path
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
        try? "subjectAltName=DNS:localhost,IP:127.0.0.1\n".write(toFile: "\(directory)/server.ext", atomically: true, encoding: .utf8)
        try? "extendedKeyUsage=clientAuth\n".write(toFile: "\(directory)/client.ext", atomically: true, encoding: .utf8)
        try? Self.caConfiguration.write(toFile: "\(directory)/ca.cnf", atomically: true, encoding: .utf8)
        try? "".write(toFile: "\(directory)/index.txt", atomically: true, encoding: .utf8)
        try? "01\n".write(toFile: "\(directory)/serial", atomically: true, encoding: .utf8)
        run(["req", "-x509"] + key + ["-keyout", "ca.key", "-out", "ca.crt", "-days", "30", "-subj", "/CN=gateway test CA"])
        run(["req", "-x509"] + key + ["-keyout", "other-ca.key", "-out", "other-ca.crt", "-days", "30", "-subj", "/CN=another CA"])
        run(["req"] + key + ["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"])
        run([
            "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.crt",
            "-days", "30", "-extfile", "server.ext",
        ])
        run([
            "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "renewed.crt",
            "-days", "30", "-extfile", "server.ext",
        ])
        run([
            "ca", "-batch", "-config", "ca.cnf", "-cert", "ca.crt", "-keyfile", "ca.key", "-in", "server.csr", "-out", "expired.crt",
            "-startdate", "20200101000000Z", "-enddate", "20200102000000Z", "-extfile", "server.ext",
        ])
        run(["req"] + key + ["-keyout", "client.key", "-out", "client.csr", "-subj", "/CN=gateway test client"])
        run([
            "x509", "-req", "-in", "client.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "client.crt",
            "-days", "30", "-extfile", "client.ext",
        ])
        run([
            "x509", "-req", "-in", "client.csr", "-CA", "other-ca.crt", "-CAkey", "other-ca.key", "-CAcreateserial", "-out",
            "stranger.crt", "-days", "30", "-extfile", "client.ext",
        ])
    }

    /// Runs `openssl arguments` in the directory; records a failure when it fails.
    private func run(_ arguments: [String]) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do {
            try process.run()
            process.waitUntilExit()
            if process.terminationStatus != 0 { Issue.record("openssl \(arguments.joined(separator: " ")) failed") }
        } catch {
            Issue.record("cannot run openssl (apt-get install -y openssl): \(error)")
        }
    }

    /// `openssl ca`'s least configuration, for the certificate with dates in the past.
    private static let caConfiguration = """
        [ ca ]
        default_ca = test_ca
        [ test_ca ]
        database = index.txt
        new_certs_dir = .
        serial = serial
        default_md = sha256
        policy = any_name
        unique_subject = no
        [ any_name ]
        commonName = supplied

        """
}
