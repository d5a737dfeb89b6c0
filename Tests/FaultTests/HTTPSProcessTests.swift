import Foundation
import LoadTesting
import TestSupport
import Testing

/// HTTPS for callers against the built binary: curl with and without the CA, plain HTTP on the TLS
/// port, SIGHUP rotation (shown by the served certificate's serial), a bad file on SIGHUP, an event
/// stream and the `--health-check` probe over HTTPS.
@Suite(.serialized) struct HTTPSProcessTests {
    let certificates = TestCertificates.shared

    /// A gateway serving HTTPS with a copy of the test certificate (so a test can replace the file).
    func start() throws -> (GatewayProcess, certificate: String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gateway-https-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let certificate = "\(directory)/tls.crt"
        try FileManager.default.copyItem(atPath: certificates.serverCertificate, toPath: certificate)
        let gateway = try GatewayProcess(
            redisURL: RedisServer.shared.url,
            environment: ["GATEWAY_TLS_CERT_FILE": certificate, "GATEWAY_TLS_KEY_FILE": certificates.serverKey])
        return (gateway, certificate)
    }

    /// Runs a program to its end (bounded by `seconds`): its exit status and standard output.
    func run(_ program: String, _ arguments: [String], seconds: Int = 10, environment: [String: String]? = nil) -> (
        status: Int32, output: String
    ) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        if let environment { process.environment = environment }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return (-1, "") }
        let timer = DispatchWorkItem { if process.isRunning { process.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + .seconds(seconds), execute: timer)
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        timer.cancel()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    func curl(_ gateway: GatewayProcess, _ arguments: [String]) -> (status: Int32, output: String) {
        run("/usr/bin/curl", ["-s", "--max-time", "5"] + arguments)
    }

    /// The serial of the certificate the gateway serves to a new handshake.
    func servedSerial(_ gateway: GatewayProcess) -> String {
        let shown = run(
            "/bin/sh", ["-c", "openssl s_client -connect 127.0.0.1:\(gateway.port) </dev/null 2>/dev/null | openssl x509 -noout -serial"])
        return shown.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func serial(of file: String) -> String {
        run("/usr/bin/openssl", ["x509", "-in", file, "-noout", "-serial"]).output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func curlWithTheCAIsServedAndWithoutItRefusesTheCertificate() throws {
        let (gateway, _) = try start()
        let base = "https://localhost:\(gateway.port)"
        let key = uniqueKey("https")
        #expect(
            curl(gateway, ["--cacert", certificates.ca, "-X", "PUT", "--data-binary", "over https", "\(base)/cache/\(key)"]).status == 0)
        #expect(curl(gateway, ["--cacert", certificates.ca, "\(base)/get/\(key)"]).output == #"{"result":"over https"}"#)
        #expect(curl(gateway, ["--cacert", certificates.ca, "--tls-max", "1.1", "\(base)/healthz"]).status != 0, "TLS 1.1 is refused")
        // curl's exit 60: the peer's certificate cannot be verified with the system's CAs.
        #expect(curl(gateway, ["\(base)/healthz"]).status == 60)
    }

    @Test func plainHTTPOnTheTLSPortIsClosedQuicklyAndOthersAreStillServed() throws {
        let (gateway, _) = try start()
        let plain = try #require(BlockingSocket(port: gateway.port, timeoutSeconds: 5))
        let start = ContinuousClock.now
        #expect(plain.write(Array("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8)))
        _ = plain.readToEnd()
        #expect(ContinuousClock.now - start < .seconds(3), "closed, not left hanging")
        #expect(curl(gateway, ["--cacert", certificates.ca, "https://localhost:\(gateway.port)/healthz"]).output.contains("ok"))
    }

    @Test func sighupRotatesTheCertificateAndABadFileKeepsTheCurrentOne() throws {
        let (gateway, certificate) = try start()
        let original = serial(of: certificates.serverCertificate)
        let renewed = serial(of: certificates.renewedServerCertificate)
        try #require(original != renewed && original.hasPrefix("serial="))
        #expect(servedSerial(gateway) == original)
        try FileManager.default.removeItem(atPath: certificate)
        try FileManager.default.copyItem(atPath: certificates.renewedServerCertificate, toPath: certificate)
        kill(gateway.pid, SIGHUP)
        #expect(eventually { servedSerial(gateway) == renewed }, "new handshakes get the renewed certificate")
        try "not a certificate".write(toFile: certificate, atomically: true, encoding: .utf8)
        kill(gateway.pid, SIGHUP)
        #expect(eventually { gateway.log.contains("cannot reload the HTTPS certificate") })
        #expect(servedSerial(gateway) == renewed, "a bad file keeps the current certificate")
        #expect(curl(gateway, ["--cacert", certificates.ca, "https://localhost:\(gateway.port)/healthz"]).output.contains("ok"))
        #expect(gateway.isRunning)
    }

    @Test func anEventStreamAndTheHealthCheckWorkOverHTTPS() throws {
        let (gateway, certificate) = try start()
        let channel = uniqueKey("https-news")
        let stream = Process()
        stream.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        stream.arguments = [
            "-sN", "--max-time", "5", "--cacert", certificates.ca, "https://localhost:\(gateway.port)/subscribe/\(channel)",
        ]
        let output = Pipe()
        stream.standardOutput = output
        try stream.run()
        #expect(
            eventually {
                curl(gateway, ["--cacert", certificates.ca, "-X", "POST", "https://localhost:\(gateway.port)/publish/\(channel)/hello"])
                    .output == #"{"result":1}"#
            })
        let received = output.fileHandleForReading.readDataToEndOfFile()
        stream.waitUntilExit()
        #expect(String(decoding: received, as: UTF8.self).contains("data: message,\(channel),hello"))
        var environment = ProcessInfo.processInfo.environment
        environment["GATEWAY_PORT"] = String(gateway.port)
        environment["GATEWAY_TLS_CERT_FILE"] = certificate
        environment["GATEWAY_TLS_KEY_FILE"] = certificates.serverKey
        #expect(run(GatewayProcess.binaryPath, ["--health-check"], environment: environment).status == 0)
        environment["GATEWAY_TLS_CERT_FILE"] = nil
        environment["GATEWAY_TLS_KEY_FILE"] = nil
        #expect(
            run(GatewayProcess.binaryPath, ["--health-check"], environment: environment).status == 1, "plain HTTP to the TLS port fails")
    }

    @Test func withAClientCAEveryCallerMustPresentACertificateItSigned() throws {
        let gateway = try GatewayProcess(
            redisURL: RedisServer.shared.url,
            environment: [
                "GATEWAY_TLS_CERT_FILE": certificates.serverCertificate, "GATEWAY_TLS_KEY_FILE": certificates.serverKey,
                "GATEWAY_TLS_CLIENT_CA_FILE": certificates.ca,
            ])
        let url = "https://localhost:\(gateway.port)/healthz"
        let trusted = ["--cacert", certificates.ca]
        #expect(
            curl(gateway, trusted + ["--cert", certificates.clientCertificate, "--key", certificates.clientKey, url]).output.contains("ok"))
        for version in ["1.2", "1.3"] {
            #expect(curl(gateway, trusted + ["--tls-max", version, url]).status != 0, "TLS \(version) without a certificate")
            #expect(
                curl(
                    gateway,
                    trusted + [
                        "--tls-max", version, "--cert", certificates.strangerClientCertificate, "--key", certificates.clientKey, url,
                    ]
                )
                .status != 0, "TLS \(version) with a certificate another CA signed")
        }
        // The probe presents the gateway's own pair, which the same CA signed.
        var environment = ProcessInfo.processInfo.environment
        environment["GATEWAY_PORT"] = String(gateway.port)
        environment["GATEWAY_TLS_CERT_FILE"] = certificates.serverCertificate
        environment["GATEWAY_TLS_KEY_FILE"] = certificates.serverKey
        environment["GATEWAY_TLS_CLIENT_CA_FILE"] = certificates.ca
        #expect(run(GatewayProcess.binaryPath, ["--health-check"], environment: environment).status == 0)
    }

    @Test func aMissingKeyStopsTheStart() throws {
        #expect(throws: (any Error).self) {
            _ = try GatewayProcess(
                redisURL: RedisServer.shared.url,
                environment: ["GATEWAY_TLS_CERT_FILE": certificates.serverCertificate, "GATEWAY_TLS_KEY_FILE": "/nonexistent.key"])
        }
    }
}
