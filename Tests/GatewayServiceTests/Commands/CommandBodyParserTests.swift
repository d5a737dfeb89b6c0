import Testing

@testable import GatewayService

@Suite struct CommandBodyParserTests {
    func strings(_ command: [[UInt8]]) -> [String] { command.map { String(decoding: $0, as: UTF8.self) } }

    @Test func numbersKeepTheirLiteralText() throws {
        let command = try CommandBodyParser.parseCommand(Array(#"["GEOADD","g",13.361389,38.115556,"x",1.50,-0,2e10]"#.utf8))
        #expect(strings(command) == ["GEOADD", "g", "13.361389", "38.115556", "x", "1.50", "-0", "2e10"])
    }

    @Test func stringsAreUnescapedToUTF8() throws {
        let command = try CommandBodyParser.parseCommand(Array(#"["SET","a\"b\\c\/d\n","\u00e9\ud83d\ude00"]"#.utf8))
        #expect(strings(command) == ["SET", "a\"b\\c/d\n", "é😀"])
    }

    @Test func aBatchIsAnArrayOfCommands() throws {
        let batch = try CommandBodyParser.parseBatch(Array(#" [ ["SET","a","1"] , ["INCR","a"] ] "#.utf8), maxCommands: 10)
        #expect(batch.map(strings) == [["SET", "a", "1"], ["INCR", "a"]])
    }

    @Test(arguments: [
        (#"{"a":1}"#, "JSON array"), (#"[]"#, "empty"), (#"[["GET","a"],"GET"]"#, "command 1 is not a JSON array"),
        (#"[["GET",true]]"#, "command 0, argument 1"), (#"[["GET",null]]"#, "command 0, argument 1"),
        (#"[["GET",["x"]]]"#, "command 0, argument 1"), (#"[["GET","a"],[]]"#, "command 1 is empty"),
        (#"[["GET","a"]"#, "expected , or ]"), (#"[["GET","a"]] x"#, "unexpected text"), (#"[["GET","a]]"#, "unterminated"),
        (#"[["GET",01]]"#, "expected , or ]"), (#"[["GET",1.]]"#, "malformed number"), (#"[["GET","\ud800"]]"#, "surrogate"),
        (#"[["GET","\q"]]"#, "invalid escape"), ("[[\"GET\",\"a\u{1}\"]]", "control character"),
    ])
    func malformedBatchesAreRefusedNamingTheProblem(_ body: String, _ expected: String) {
        #expect {
            try CommandBodyParser.parseBatch(Array(body.utf8), maxCommands: 10)
        } throws: { error in
            (error as? CommandBodyParser.Failure)?.message.contains(expected) == true
        }
    }

    @Test func theBatchBoundIsEnforced() {
        let body = "[" + Array(repeating: #"["PING"]"#, count: 3).joined(separator: ",") + "]"
        #expect(throws: CommandBodyParser.Failure.self) { try CommandBodyParser.parseBatch(Array(body.utf8), maxCommands: 2) }
        #expect((try? CommandBodyParser.parseBatch(Array(body.utf8), maxCommands: 3))?.count == 3)
    }

    @Test func invalidUTF8InsideAStringIsRefused() {
        let body: [UInt8] = Array(#"[["SET","#.utf8) + [0x22, 0xFF, 0x22] + Array("]]".utf8)
        #expect(throws: CommandBodyParser.Failure.self) { try CommandBodyParser.parseBatch(body, maxCommands: 10) }
    }
}
