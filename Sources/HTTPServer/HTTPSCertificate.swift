import CMicroHTTPD
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

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

    /// The PEM CAs whose client certificates are required (NUL-terminated, for libmicrohttpd); nil:
    /// no client certificate is asked for.
    let clientCA: [CChar]?

    /// Every HTTPS server of the process: its port → the address of its current pair, and whether
    /// its callers must present a certificate.
    private static let registry = Mutex<[UInt16: (pair: Int, requireClient: Bool)]>([:])

    /// What libmicrohttpd calls on each handshake (`MHD_OPTION_HTTPS_CERT_CALLBACK`), while GnuTLS
    /// reads the ClientHello.
    static let callback: gw_https_certificate_callback = { session, _, _, _, _, certificates, count, key in
        let port = gw_https_local_port(session)
        guard let entry = registry.withLock({ $0[port] }), let pair = UnsafeMutablePointer<gw_https_identity>(bitPattern: entry.pair)
        else { return -1 }
        if entry.requireClient { gw_https_require_client_certificate(session) }
        return gw_https_identity_select(pair, certificates, count, key)
    }

    /// Reads the pair (and the client CA file, when callers must present certificates); throws
    /// naming the file that cannot be used.
    init(certificateFile: String, keyFile: String, clientCAFile: String? = nil) throws(HTTPServerError) {
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        if let clientCAFile {
            guard let file = fopen(clientCAFile, "r") else {
                throw HTTPServerError(description: "cannot read the client CA file \(clientCAFile): \(String(cString: strerror(errno)))")
            }
            var bytes: [CChar] = []
            var chunk = [CChar](repeating: 0, count: 4096)
            while true {
                let read = fread(&chunk, 1, chunk.count, file)
                if read <= 0 { break }
                bytes.append(contentsOf: chunk[0..<read])
            }
            fclose(file)
            guard String(decoding: bytes.map { UInt8(bitPattern: $0) }, as: UTF8.self).contains("-----BEGIN CERTIFICATE-----") else {
                throw HTTPServerError(description: "the client CA file \(clientCAFile) holds no PEM certificate")
            }
            clientCA = bytes + [0]
        } else {
            clientCA = nil
        }
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
        let requireClient = clientCA != nil
        Self.registry.withLock { $0[UInt16(clamping: port)] = (current, requireClient) }
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
        if port != 0 { Self.registry.withLock { $0[UInt16(clamping: port)]?.pair = loaded } }
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
