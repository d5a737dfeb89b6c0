extension RedisValue {
    /// A RESP2 map (an array of name, value pairs, as `CLUSTER SHARDS` and `COMMAND` key specs send
    /// them) as a dictionary; empty for any other reply.
    public var mapFields: [String: RedisValue] {
        guard case .array(let items) = self else { return [:] }
        var fields: [String: RedisValue] = [:]
        var index = 0
        while index + 1 < items.count {
            if let name = items[index].text { fields[name] = items[index + 1] }
            index += 2
        }
        return fields
    }
}
