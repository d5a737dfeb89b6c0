import CGnuTLS
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// `redis-gateway --health-check`: one `GET /healthz` to the gateway the settings describe (its
/// port; loopback when it listens on every address), answered within 2 s with a 200, or exit 1.
/// The container's HEALTHCHECK runs it, so the image needs no curl. With `https` it speaks TLS (the
/// certificate is not verified: the probe asks whether this gateway answers, on its own port); when
/// callers must present certificates, it presents the gateway's own certificate and key.
enum HealthCheck {
    static func run(host: String, port: Int, https: Bool, clientCertificate: (certificate: String, key: String)? = nil) -> Int32 {
        let target = host == "0.0.0.0" || host == "::" ? "127.0.0.1" : host
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var found: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(target, String(port), &hints, &found) == 0, let address = found else { return 1 }
        defer { freeaddrinfo(found) }
        let fd = socket(address.pointee.ai_family, address.pointee.ai_socktype, address.pointee.ai_protocol)
        guard fd >= 0 else { return 1 }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        guard connect(fd, address.pointee.ai_addr, address.pointee.ai_addrlen) == 0 else { return 1 }
        let request = Array("GET /healthz HTTP/1.1\r\nHost: \(target)\r\nConnection: close\r\n\r\n".utf8)
        var buffer = [UInt8](repeating: 0, count: 512)
        let count: Int
        if https {
            guard let credentials = gw_tls_credentials_unverified() else { return 1 }
            defer { gw_tls_credentials_free(credentials) }
            // With mTLS the probe presents the gateway's own pair: it passes when one CA signed both.
            if let present = clientCertificate, gw_tls_credentials_present(credentials, present.certificate, present.key) != 0 { return 1 }
            var timedOut: Int32 = 0
            var error = [CChar](repeating: 0, count: 256)
            let session = error.withUnsafeMutableBufferPointer {
                gw_tls_handshake(credentials, fd, target, 0, 2000, &timedOut, $0.baseAddress!, $0.count)
            }
            guard let session else { return 1 }
            defer { gw_tls_session_free(session) }
            guard request.withUnsafeBytes({ gw_tls_send(session, $0.baseAddress!, $0.count) }) == request.count else { return 1 }
            count = buffer.withUnsafeMutableBytes { gw_tls_recv(session, $0.baseAddress!, $0.count, 0) }
        } else {
            guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == request.count else { return 1 }
            count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        }
        guard count > 12 else { return 1 }
        return String(decoding: buffer[0..<12], as: UTF8.self) == "HTTP/1.1 200" ? 0 : 1
    }
}
