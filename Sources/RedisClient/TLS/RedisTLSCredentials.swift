import CGnuTLS

/// The loaded CA bundle and client certificate of `RedisTLSSettings`, shared read-only by every TLS
/// connection of the process (GnuTLS credentials). Loading reads the files once: a file that cannot
/// be used fails at start-up, never per connection.
public final class RedisTLSCredentials: @unchecked Sendable, Equatable {
    /// What was loaded.
    public let settings: RedisTLSSettings
    let handle: UnsafeMutablePointer<gw_tls_credentials>

    /// Loads `settings`' files; throws a message naming the file's problem.
    public init(_ settings: RedisTLSSettings) throws(RedisError) {
        guard (settings.certificateFile == nil) == (settings.keyFile == nil) else {
            throw RedisError(.connectFailed, "a client certificate needs both a certificate file and a key file")
        }
        var error = [CChar](repeating: 0, count: 512)
        let loaded = error.withUnsafeMutableBufferPointer { buffer in
            gw_tls_credentials_new(settings.caFile, settings.certificateFile, settings.keyFile, buffer.baseAddress!, buffer.count)
        }
        guard let loaded else {
            throw RedisError(.connectFailed, String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        self.settings = settings
        handle = loaded
    }

    deinit {
        gw_tls_credentials_free(handle)
    }

    /// Credentials are the same only when they are the same loaded object.
    public static func == (lhs: RedisTLSCredentials, rhs: RedisTLSCredentials) -> Bool { lhs === rhs }
}
