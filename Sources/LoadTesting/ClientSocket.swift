#if canImport(Glibc)
    import Glibc
#endif

/// A TCP client socket to the load target (the load client's only file with system-call plumbing).
/// Threading: used by one thread at a time.
final class ClientSocket {
    let descriptor: Int32

    /// Connects (blocking, bounded by `timeoutSeconds`) and then switches to non-blocking when asked.
    init(target: LoadTarget, nonBlocking: Bool, timeoutSeconds: Int = 5) throws(LoadTestError) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw LoadTestError("socket() failed: errno \(errno)") }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(target.port).bigEndian)
        address.sin_addr.s_addr = inet_addr(target.address)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            let code = errno
            Glibc.close(fd)
            throw LoadTestError(code == ECONNREFUSED ? "connection refused" : "connect failed (errno \(code))")
        }
        descriptor = fd
        if nonBlocking { makeNonBlocking() }
    }

    deinit {
        Glibc.close(descriptor)
    }

    /// Switches a blocking socket to non-blocking.
    func makeNonBlocking() {
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
    }

    /// Writes from `bytes[offset...]`; returns bytes written, 0 when it would block, nil on error.
    func write(_ bytes: [UInt8], from offset: Int) -> Int? {
        let written = bytes[offset...].withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        if written >= 0 { return written }
        return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : nil
    }

    /// Appends what can be read now to `buffer`; returns bytes read, 0 when it would block, nil at
    /// end of stream or on error.
    func read(into buffer: inout [UInt8]) -> Int? {
        var total = 0
        while true {
            // Receive into a stack buffer (no zero-filling, no heap allocation), then append.
            let count = withUnsafeTemporaryAllocation(byteCount: 16384, alignment: 1) { scratch in
                let received = Glibc.recv(descriptor, scratch.baseAddress, scratch.count, 0)
                if received > 0 { buffer.append(contentsOf: scratch[..<received]) }
                return received
            }
            if count > 0 {
                total += count
                if count < 16384 { return total }
                continue
            }
            if count == 0 { return total > 0 ? total : nil }
            return errno == EAGAIN || errno == EWOULDBLOCK ? total : (total > 0 ? total : nil)
        }
    }

    /// Waits until any of `sockets` is readable (or writable, for those in `wantWrite`), up to
    /// `timeoutMilliseconds`; returns the indexes that are ready, with whether each hung up.
    static func wait(
        _ sockets: [ClientSocket?], wantWrite: [Bool], timeoutMilliseconds: Int32
    ) -> [(index: Int, readable: Bool, writable: Bool, failed: Bool)] {
        var descriptors = sockets.enumerated().map { index, socket in
            pollfd(
                fd: socket?.descriptor ?? -1,
                events: Int16(POLLIN) | (wantWrite[index] ? Int16(POLLOUT) : 0),
                revents: 0)
        }
        let ready = descriptors.withUnsafeMutableBufferPointer { poll($0.baseAddress, nfds_t($0.count), timeoutMilliseconds) }
        guard ready > 0 else { return [] }
        return descriptors.enumerated().compactMap { index, entry in
            guard entry.revents != 0 else { return nil }
            return (
                index, entry.revents & Int16(POLLIN) != 0, entry.revents & Int16(POLLOUT) != 0,
                entry.revents & (Int16(POLLERR) | Int16(POLLNVAL)) != 0
            )
        }
    }

    /// Nanoseconds on the monotonic clock.
    static func now() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
    }
}
