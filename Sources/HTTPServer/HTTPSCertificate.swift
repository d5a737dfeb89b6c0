import CMicroHTTPD
import Synchronization

/// The certificate chain and key an HTTPS server presents, re-read from their files on `reload()`
/// (certificate rotation without a restart: new handshakes get the new pair, open connections keep
/// theirs, a pair that cannot be used leaves the current one in place).
///
/// libmicrohttpd asks for the certificate on each handshake through a C callback without a context
/// pointer; the callback finds the server by the connection's local port (`registry`), so several
/// HTTPS servers can run in one process (the tests do). A replaced pair is kept until the server
/// stops, since a handshake in progress may still read it: a few KiB per rotation.
///
/// Threading: every member may be used from any thread.
final class HTTPSCertificate: Sendable {
    private let certificateFile: String
    private let keyFile: String
    /// The pair handshakes get now, and every pair replaced since (freed on `retire()`), as addresses.
    private let pairs = Mutex<(current: Int, replaced: [Int])>((0, []))
    private let registeredPort = Atomic<Int>(0)

    /// Every HTTPS server of the process: its port → the address of its current pair.
    private static let registry = Mutex<[UInt16: Int]>([:])

    /// What libmicrohttpd calls on each handshake (`MHD_OPTION_HTTPS_CERT_CALLBACK`).
    static let callback: gw_https_certificate_callback = { session, _, _, _, _, certificates, count, key in
        let port = gw_https_local_port(session)
        guard let address = registry.withLock({ $0[port] }), let pair = UnsafeMutablePointer<gw_https_identity>(bitPattern: address)
        else { return -1 }
        return gw_https_identity_select(pair, certificates, count, key)
    }

    /// Reads the pair; throws naming the file that cannot be used.
    init(certificateFile: String, keyFile: String) throws(HTTPServerError) {
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        let loaded = try Self.load(certificateFile: certificateFile, keyFile: keyFile)
        pairs.withLock { $0.current = Int(bitPattern: loaded) }
    }

    deinit {
        retire()
    }

    /// Serves handshakes on `port` with this certificate.
    func register(port: Int) {
        registeredPort.store(port, ordering: .relaxed)
        let current = pairs.withLock { $0.current }
        Self.registry.withLock { $0[UInt16(clamping: port)] = current }
    }

    /// Re-reads both files; on success new handshakes get the new pair. Throws, keeping the current
    /// pair, when either file cannot be used.
    func reload() throws(HTTPServerError) {
        let loaded = Int(bitPattern: try Self.load(certificateFile: certificateFile, keyFile: keyFile))
        pairs.withLock { pairs in
            pairs.replaced.append(pairs.current)
            pairs.current = loaded
        }
        let port = registeredPort.load(ordering: .relaxed)
        if port != 0 { Self.registry.withLock { $0[UInt16(clamping: port)] = loaded } }
    }

    /// After the server stopped (no handshake can run): forgets the port and frees every pair.
    func retire() {
        let port = registeredPort.exchange(0, ordering: .relaxed)
        if port != 0 { _ = Self.registry.withLock { $0.removeValue(forKey: UInt16(clamping: port)) } }
        let all = pairs.withLock { pairs in
            defer { pairs = (0, []) }
            return pairs.replaced + [pairs.current]
        }
        for address in all {
            if let pair = UnsafeMutablePointer<gw_https_identity>(bitPattern: address) { gw_https_identity_free(pair) }
        }
    }

    private static func load(certificateFile: String, keyFile: String) throws(HTTPServerError) -> UnsafeMutablePointer<gw_https_identity> {
        var error = [CChar](repeating: 0, count: 512)
        let loaded = error.withUnsafeMutableBufferPointer { buffer in
            gw_https_identity_load(certificateFile, keyFile, buffer.baseAddress!, buffer.count)
        }
        guard let loaded else {
            throw HTTPServerError(description: String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return loaded
    }
}
