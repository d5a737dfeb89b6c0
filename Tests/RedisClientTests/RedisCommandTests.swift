import RedisClient
import Testing

@Suite struct RedisCommandTests {
    @Test func keepsArgumentsAsBytes() {
        let command = RedisCommand("SET", ["k"], bytes: [[0, 13, 10, 255]])
        #expect(command.arguments == [Array("SET".utf8), Array("k".utf8), [0, 13, 10, 255]])
        #expect(command.name == "SET")
    }
}
