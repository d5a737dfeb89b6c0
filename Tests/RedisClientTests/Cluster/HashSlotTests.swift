import RedisClient
import Testing

@Suite struct HashSlotTests {
    /// Vectors from the Redis Cluster specification and `CLUSTER KEYSLOT`.
    @Test func matchesRedis() {
        #expect(HashSlot.of("123456789") == 0x31C3 % 16384)
        #expect(HashSlot.of("foo") == 12182)
        #expect(HashSlot.of("bar") == 5061)
        #expect(HashSlot.of("") == 0)
    }

    @Test func hashTagsPickTheFirstNonEmptyBraces() {
        #expect(HashSlot.of("{user1000}.following") == HashSlot.of("{user1000}.followers"))
        #expect(HashSlot.of("{user1000}.following") == HashSlot.of("user1000"))
        #expect(HashSlot.of("foo{}{bar}") == HashSlot.of("foo{}{bar}"), "empty braces: the whole key")
        #expect(HashSlot.of("foo{}{bar}") != HashSlot.of("bar"))
        #expect(HashSlot.of("foo{{bar}}zap") == HashSlot.of("{bar"))
        #expect(HashSlot.of("foo{bar}{zap}") == HashSlot.of("bar"))
    }
}
