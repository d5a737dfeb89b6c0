/// The `#!lua flags=…` first line of a Redis 7 script, and the rewrite that keeps only the flags
/// Redis and Valkey know. Upstash's own server accepts more (`allow-key-locking`, which its
/// rate-limit library sends); a self-hosted Redis refuses the whole script for an unknown flag.
enum ScriptShebang {
    /// The flags Redis 7 and Valkey accept in a script's shebang.
    static let knownFlags: Set<String> = ["no-writes", "allow-oom", "allow-stale", "no-cluster", "allow-cross-slot-keys"]

    /// `script` with its shebang's unknown flags removed (the known ones kept, in order), or nil
    /// when there is nothing to remove: no shebang, not Lua, no flags, or only known flags.
    static func withoutUnknownFlags(_ script: [UInt8]) -> [UInt8]? {
        guard script.starts(with: Array("#!".utf8)) else { return nil }
        let lineEnd = script.firstIndex(of: UInt8(ascii: "\n")) ?? script.endIndex
        let line = String(decoding: script[..<lineEnd], as: UTF8.self)
        let words = line.dropFirst(2).split(separator: " ", omittingEmptySubsequences: true)
        guard let engine = words.first, engine == "lua" else { return nil }
        var flags: [Substring] = []
        var others: [Substring] = []
        for word in words.dropFirst() {
            if word.hasPrefix("flags=") {
                flags += word.dropFirst("flags=".count).split(separator: ",", omittingEmptySubsequences: true)
            } else {
                others.append(word)
            }
        }
        let kept = flags.filter { knownFlags.contains(String($0)) }
        guard kept.count < flags.count else { return nil }
        var rewritten = "#!lua"
        if !kept.isEmpty { rewritten += " flags=" + kept.joined(separator: ",") }
        for word in others { rewritten += " " + word }
        return Array(rewritten.utf8) + script[lineEnd...]
    }
}
