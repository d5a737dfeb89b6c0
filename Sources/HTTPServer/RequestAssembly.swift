import CoreUtilities

/// One request being gathered across libmicrohttpd's repeated access-handler calls: headers on
/// the first call, body chunks on the following ones, then a final call with no data.
///
/// Threading: used by one libmicrohttpd worker thread at a time (the connection's thread).
final class RequestAssembly {
    let method: HTTPMethod
    let rawPath: String
    let headers: [(name: String, value: String)]
    let maxBodyBytes: Int
    private(set) var body: [UInt8] = []
    /// True once the body went past `maxBodyBytes`; the rest is read and dropped.
    private(set) var isTooLarge = false
    /// True once the request was answered or handed to its handler.
    var hasResponded = false
    /// Where the handler answers; set when the request is handed over.
    var responder: HTTPResponder?
    /// The connection's client address, read on the first call.
    var clientAddress: ClientAddress?

    init(method: HTTPMethod, rawPath: String, headers: [(name: String, value: String)], maxBodyBytes: Int) {
        self.method = method
        self.rawPath = rawPath
        self.headers = headers
        self.maxBodyBytes = maxBodyBytes
        if let length = declaredContentLength, length > maxBodyBytes { isTooLarge = true }
    }

    /// The Content-Length the client declared, if any.
    var declaredContentLength: Int? {
        headers.first { ASCIICase.equals($0.name, lowercase: "content-length") }.flatMap { Int($0.value) }
    }

    /// Adds one chunk of body; past the limit the chunk is dropped and the request marked too large.
    func append(_ chunk: UnsafeRawBufferPointer) {
        guard !isTooLarge else { return }
        if body.count + chunk.count > maxBodyBytes {
            isTooLarge = true
            body = []
            return
        }
        body.append(contentsOf: chunk)
    }

    /// The finished request, or the 400/413 response that replaces it.
    func finish(query: [(name: String, value: String)]) -> Result<HTTPRequest, RejectedRequest> {
        if isTooLarge {
            return .failure(RejectedRequest(response: .error(413, "request body larger than \(maxBodyBytes) bytes")))
        }
        guard
            var request = HTTPRequest(method: method, rawPath: rawPath, rawQuery: query, headers: headers, body: body)
        else {
            return .failure(RejectedRequest(response: .error(400, "malformed percent-escape in the URL")))
        }
        request.clientAddress = clientAddress
        return .success(request)
    }
}

/// A request answered by the HTTP layer itself (too large, malformed URL).
struct RejectedRequest: Error {
    let response: HTTPResponse
}
