import CoreUtilities

#if canImport(Glibc)
    import Glibc
#endif

/// A plain blocking TCP client socket to 127.0.0.1, for tests that must speak to real servers
/// over real sockets (HTTP requests, raw RESP probes). Sendable so tests can hand sockets between
/// threads; each one is used by one thread at a time.
public final class BlockingSocket: @unchecked Sendable {
    private let descriptor: Int32

    /// Connects to 127.0.0.1:`port` (from `sourceAddress`, e.g. another loopback address, when
    /// given); nil if the connection is refused or times out.
    /// `receiveBufferBytes` shrinks the kernel's receive buffer (a consumer that reads slowly
    /// then holds little in flight).
    public init?(port: Int, timeoutSeconds: Int = 10, sourceAddress: String? = nil, receiveBufferBytes: Int? = nil) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        if var size = receiveBufferBytes.map(Int32.init) {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        if let sourceAddress {
            var source = sockaddr_in()
            source.sin_family = sa_family_t(AF_INET)
            source.sin_addr.s_addr = inet_addr(sourceAddress)
            let bound = withUnsafePointer(to: &source) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard bound == 0 else {
                Glibc.close(fd)
                return nil
            }
        }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            Glibc.close(fd)
            return nil
        }
        descriptor = fd
    }

    deinit {
        Glibc.close(descriptor)
    }

    /// Writes all of `bytes`; false on error.
    @discardableResult
    public func write(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if written <= 0 { return false }
            offset += written
        }
        return true
    }

    /// Reads what is available (blocking for at least one byte); empty at end of stream or error.
    public func read(max: Int = 65536) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: max)
        let count = buffer.withUnsafeMutableBytes { Glibc.recv(descriptor, $0.baseAddress, max, 0) }
        return count > 0 ? Array(buffer[..<count]) : []
    }

    /// Whether something arrives (or the peer closes) within `milliseconds`, without reading it.
    public func becomesReadable(within milliseconds: Int) -> Bool {
        var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        return poll(&entry, 1, Int32(milliseconds)) > 0
    }

    /// True when the peer has closed the connection (a non-blocking peek reads end of stream or an error).
    public var isClosedByPeer: Bool {
        var byte: UInt8 = 0
        let received = recv(descriptor, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT))
        return received == 0 || (received < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
    }

    /// Reads until the peer closes the connection.
    public func readToEnd() -> [UInt8] {
        var all: [UInt8] = []
        while true {
            let chunk = read()
            if chunk.isEmpty { return all }
            all += chunk
        }
    }

    /// A free TCP port on 127.0.0.1 (bound to port 0, read back, released).
    public static func freePort() -> Int {
        guard let port = LoopbackPort.free() else { preconditionFailure("no free loopback port") }
        return port
    }
}
