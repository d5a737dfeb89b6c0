import CGnuTLS

#if canImport(Glibc)
    import Glibc
#endif

/// One client TLS session over a connected socket (GnuTLS): the handshake, then decrypted reads
/// and encrypted writes that wait on the socket's own timeouts. Used by one thread at a time (its
/// `RedisConnection`'s).
final class TLSSession {
    private let handle: UnsafeMutablePointer<gw_tls_session>

    /// Runs the handshake on `fd` within `timeout`, verifying `serverName` unless `verify` is
    /// `.none`; a refused certificate, a refused client certificate or a timeout throws
    /// `.connectFailed` (or `.timeout`) with GnuTLS' description of the problem.
    init(fd: Int32, credentials: RedisTLSCredentials, serverName: String, timeout: Duration) throws(RedisError) {
        var error = [CChar](repeating: 0, count: 768)
        var timedOut: Int32 = 0
        let milliseconds = UInt32(
            clamping: max(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000, 1))
        let verify: Int32 = credentials.settings.verify == .full ? 1 : 0
        let session = error.withUnsafeMutableBufferPointer { buffer in
            gw_tls_handshake(credentials.handle, fd, serverName, verify, milliseconds, &timedOut, buffer.baseAddress!, buffer.count)
        }
        guard let session else {
            // GnuTLS ends its verification text with a space.
            var message = String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            while message.last == " " { message.removeLast() }
            throw RedisError(timedOut != 0 ? .timeout : .connectFailed, message)
        }
        handle = session
    }

    deinit {
        gw_tls_session_free(handle)
    }

    /// Up to `buffer.count` decrypted bytes; 0 when the peer closed; -1 with errno set (EAGAIN:
    /// nothing within the socket timeout, or now with `nonblocking`).
    func receive(into buffer: UnsafeMutableRawBufferPointer, nonblocking: Bool = false) -> Int {
        gw_tls_recv(handle, buffer.baseAddress!, buffer.count, nonblocking ? 1 : 0)
    }

    /// Writes all of `bytes`; false with errno set when that failed (EAGAIN: the socket timeout).
    func send(_ bytes: UnsafeRawBufferPointer) -> Bool {
        gw_tls_send(handle, bytes.baseAddress!, bytes.count) == bytes.count
    }

    /// What failed the last `receive` or `send` that set errno EPROTO (an alert the server sent, a bad record).
    var lastError: String {
        var error = [CChar](repeating: 0, count: 256)
        error.withUnsafeMutableBufferPointer { buffer in gw_tls_last_error(handle, buffer.baseAddress!, buffer.count) }
        return String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Decrypted bytes held that no `receive` took yet (a poll on the socket does not see them).
    var pendingBytes: Int { gw_tls_pending(handle) }
}
