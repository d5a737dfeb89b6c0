/// A JSON object written straight into bytes, member by member: the one way the gateway writes JSON
/// bodies. Strings are quoted and escaped (RFC 8259); numbers are written as Swift prints them.
///
/// ```swift
/// var json = JSONObject()
/// json.add("key", string: "k")
/// json.add("ttl", -1)
/// let body = json.bytes  // {"key":"k","ttl":-1}
/// ```
public struct JSONObject: Sendable {
    private var buffer: [UInt8]
    private var isEmpty = true

    /// An empty object; `capacity` bytes reserved.
    public init(capacity: Int = 64) {
        buffer = []
        buffer.reserveCapacity(capacity)
        buffer.append(UInt8(ascii: "{"))
    }

    /// The object's bytes, closed.
    public var bytes: [UInt8] {
        var closed = buffer
        closed.append(UInt8(ascii: "}"))
        return closed
    }

    /// The object's members without the braces (to splice into another object).
    public var members: ArraySlice<UInt8> { buffer.dropFirst() }

    /// A text member.
    public mutating func add(_ name: String, string value: String) {
        key(name)
        JSONString.appendQuoted(value.utf8, to: &buffer)
    }

    /// A text member from UTF-8 bytes (which must be valid UTF-8).
    public mutating func add(_ name: String, utf8 value: some Collection<UInt8>) {
        key(name)
        JSONString.appendQuoted(value, to: &buffer)
    }

    /// A text member, or `null` when `value` is nil.
    public mutating func add(_ name: String, optionalString value: String?) {
        guard let value else { return addNull(name) }
        add(name, string: value)
    }

    /// A whole-number member.
    public mutating func add(_ name: String, _ value: some BinaryInteger) {
        key(name)
        buffer.append(contentsOf: String(value).utf8)
    }

    /// A number member.
    public mutating func add(_ name: String, _ value: Double) {
        key(name)
        buffer.append(contentsOf: (value.isFinite ? String(value) : "null").utf8)
    }

    /// A true/false member.
    public mutating func add(_ name: String, _ value: Bool) {
        key(name)
        buffer.append(contentsOf: (value ? "true" : "false").utf8)
    }

    /// A `null` member.
    public mutating func addNull(_ name: String) {
        key(name)
        buffer.append(contentsOf: "null".utf8)
    }

    /// A nested object member.
    public mutating func add(_ name: String, object: JSONObject) {
        key(name)
        buffer.append(contentsOf: object.bytes)
    }

    /// An array-of-objects member.
    public mutating func add(_ name: String, objects: [JSONObject]) {
        key(name)
        buffer.append(UInt8(ascii: "["))
        for (index, object) in objects.enumerated() {
            if index > 0 { buffer.append(UInt8(ascii: ",")) }
            buffer.append(contentsOf: object.bytes)
        }
        buffer.append(UInt8(ascii: "]"))
    }

    /// Every member of `other`, added to this object.
    public mutating func merge(_ other: JSONObject) {
        guard !other.isEmpty else { return }
        if !isEmpty { buffer.append(UInt8(ascii: ",")) }
        buffer.append(contentsOf: other.members)
        isEmpty = false
    }

    private mutating func key(_ name: String) {
        if !isEmpty { buffer.append(UInt8(ascii: ",")) }
        isEmpty = false
        JSONString.appendQuoted(name.utf8, to: &buffer)
        buffer.append(UInt8(ascii: ":"))
    }
}
