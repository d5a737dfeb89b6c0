/// Parses the JSON bodies of the command API: one command (`["SET","a",1.50]`) or a batch of them
/// (`[["SET","a","1"],["GET","a"]]`). Each argument is a JSON string or number; numbers keep their
/// literal text (`1.50` stays `1.50`, GEO coordinates are not rounded), strings are unescaped to
/// their UTF-8 bytes.
///
/// A dedicated parser because general JSON decoders turn numbers into doubles and lose the text.
/// Anything else (objects, booleans, null, nesting) is refused with a message naming the index.
struct CommandBodyParser {
    /// Why a body was refused; the message names the offending command and argument.
    struct Failure: Error {
        let message: String
        /// The body is well formed so far but holds more than allowed (413, not 400).
        var isTooLarge = false
    }

    /// Where an argument is, for error messages built only when something is wrong.
    struct Location {
        let command: Int?
        let argument: Int

        var description: String {
            (command.map { "command \($0)" } ?? "the command") + ", argument \(argument)"
        }
    }

    private let bytes: [UInt8]
    private var position = 0

    private init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// A batch: a non-empty array of non-empty arrays of strings or numbers; more than
    /// `maxCommands` fails as too large at the first command past them, however many follow.
    static func parseBatch(_ body: [UInt8], maxCommands: Int) throws(Failure) -> [[[UInt8]]] {
        var parser = CommandBodyParser(body)
        parser.skipWhitespace()
        try parser.expect(UInt8(ascii: "["), "the body must be a JSON array of commands")
        var commands: [[[UInt8]]] = []
        parser.skipWhitespace()
        if parser.peek() == UInt8(ascii: "]") { throw Failure(message: "the batch is empty") }
        while true {
            guard commands.count < maxCommands else {
                throw Failure(message: "more than \(maxCommands) commands in one batch", isTooLarge: true)
            }
            parser.skipWhitespace()
            guard parser.peek() == UInt8(ascii: "[") else {
                throw Failure(message: "command \(commands.count) is not a JSON array")
            }
            commands.append(try parser.parseCommand(index: commands.count))
            parser.skipWhitespace()
            if try parser.endOfList(afterCommand: commands.count - 1) { break }
        }
        try parser.expectEnd()
        return commands
    }

    /// A single command: a non-empty array of strings or numbers.
    static func parseCommand(_ body: [UInt8]) throws(Failure) -> [[UInt8]] {
        var parser = CommandBodyParser(body)
        parser.skipWhitespace()
        guard parser.peek() == UInt8(ascii: "[") else {
            throw Failure(message: "the body must be a JSON array such as [\"SET\",\"key\",\"value\"]")
        }
        let command = try parser.parseCommand(index: nil)
        try parser.expectEnd()
        return command
    }

    // MARK: Grammar

    private mutating func parseCommand(index: Int?) throws(Failure) -> [[UInt8]] {
        position += 1  // [
        skipWhitespace()
        if peek() == UInt8(ascii: "]") { throw Failure(message: "\(index.map { "command \($0)" } ?? "the command") is empty") }
        var arguments: [[UInt8]] = []
        while true {
            skipWhitespace()
            let argument = arguments.count
            let location = Location(command: index, argument: argument)
            switch peek() ?? 0 {
            case UInt8(ascii: "\""):
                arguments.append(try parseString(at: location))
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                arguments.append(try parseNumber(at: location))
            default:
                throw Failure(message: "\(location.description) is not a string or a number")
            }
            skipWhitespace()
            if try endOfList(after: location) { return arguments }
        }
    }

    /// After an argument: `,` continues (false), `]` ends the command (true).
    private mutating func endOfList(after location: Location) throws(Failure) -> Bool {
        guard let ended = endOfList() else {
            throw Failure(message: "malformed JSON after \(location.description): expected , or ]")
        }
        return ended
    }

    /// After a command: `,` continues (false), `]` ends the batch (true).
    private mutating func endOfList(afterCommand index: Int) throws(Failure) -> Bool {
        guard let ended = endOfList() else { throw Failure(message: "malformed JSON after command \(index): expected , or ]") }
        return ended
    }

    private mutating func endOfList() -> Bool? {
        switch peek() {
        case UInt8(ascii: ","):
            position += 1
            return false
        case UInt8(ascii: "]"):
            position += 1
            return true
        default:
            return nil
        }
    }

    private mutating func parseString(at location: Location) throws(Failure) -> [UInt8] {
        position += 1  // opening quote
        // Fast path: no escapes and plain ASCII, the common case: one slice, no validation.
        var end = position
        var isPlainASCII = true
        while end < bytes.count {
            let byte = bytes[end]
            if byte == UInt8(ascii: "\"") { break }
            if byte == UInt8(ascii: "\\") || byte < 0x20 || byte >= 0x80 {
                isPlainASCII = false
                break
            }
            end += 1
        }
        if isPlainASCII, end < bytes.count {
            defer { position = end + 1 }
            return Array(bytes[position..<end])
        }
        var output: [UInt8] = Array(bytes[position..<end])
        position = end
        while position < bytes.count {
            let byte = bytes[position]
            position += 1
            switch byte {
            case UInt8(ascii: "\""):
                guard String(validating: output, as: UTF8.self) != nil else {
                    throw Failure(message: "\(location.description) is not valid UTF-8")
                }
                return output
            case UInt8(ascii: "\\"):
                try parseEscape(into: &output, at: location)
            case 0..<0x20:
                throw Failure(message: "\(location.description) has an unescaped control character")
            default:
                output.append(byte)
            }
        }
        throw Failure(message: "\(location.description) is an unterminated string")
    }

    private mutating func parseEscape(into output: inout [UInt8], at location: Location) throws(Failure) {
        guard position < bytes.count else { throw Failure(message: "\(location.description) ends inside an escape") }
        let escape = bytes[position]
        position += 1
        switch escape {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): output.append(escape)
        case UInt8(ascii: "b"): output.append(0x08)
        case UInt8(ascii: "f"): output.append(0x0C)
        case UInt8(ascii: "n"): output.append(0x0A)
        case UInt8(ascii: "r"): output.append(0x0D)
        case UInt8(ascii: "t"): output.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = try parseHex4(at: location)
            if (0xD800..<0xDC00).contains(scalar) {
                guard position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u")
                else { throw Failure(message: "\(location.description) has an unpaired surrogate") }
                position += 2
                let low = try parseHex4(at: location)
                guard (0xDC00..<0xE000).contains(low) else { throw Failure(message: "\(location.description) has an unpaired surrogate") }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00..<0xE000).contains(scalar) {
                throw Failure(message: "\(location.description) has an unpaired surrogate")
            }
            guard let unicode = Unicode.Scalar(scalar) else { throw Failure(message: "\(location.description) has an invalid \\u escape") }
            output.append(contentsOf: String(Character(unicode)).utf8)
        default:
            throw Failure(message: "\(location.description) has an invalid escape")
        }
    }

    private mutating func parseHex4(at location: Location) throws(Failure) -> UInt32 {
        guard position + 4 <= bytes.count else { throw Failure(message: "\(location.description) has a short \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[position]
            position += 1
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw Failure(message: "\(location.description) has an invalid \\u escape")
            }
            value = value << 4 | digit
        }
        return value
    }

    /// A JSON number (RFC 8259 grammar), returned as its literal text.
    private mutating func parseNumber(at location: Location) throws(Failure) -> [UInt8] {
        let start = position
        if peek() == UInt8(ascii: "-") { position += 1 }
        if peek() == UInt8(ascii: "0") {
            position += 1
        } else if digits() == 0 {
            throw Failure(message: "\(location.description) is a malformed number")
        }
        if peek() == UInt8(ascii: ".") {
            position += 1
            if digits() == 0 { throw Failure(message: "\(location.description) is a malformed number") }
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            position += 1
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { position += 1 }
            if digits() == 0 { throw Failure(message: "\(location.description) is a malformed number") }
        }
        return Array(bytes[start..<position])
    }

    private mutating func digits() -> Int {
        var count = 0
        while let byte = peek(), (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) {
            position += 1
            count += 1
        }
        return count
    }

    // MARK: Tokens

    private func peek() -> UInt8? {
        position < bytes.count ? bytes[position] : nil
    }

    private mutating func skipWhitespace() {
        while let byte = peek(), byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D {
            position += 1
        }
    }

    private mutating func expect(_ byte: UInt8, _ message: String) throws(Failure) {
        guard peek() == byte else { throw Failure(message: message) }
        position += 1
    }

    private mutating func expectEnd() throws(Failure) {
        skipWhitespace()
        guard position == bytes.count else { throw Failure(message: "unexpected text after the JSON array") }
    }
}
