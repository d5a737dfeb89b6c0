import Foundation

/// One setting of the gateway: its environment variable, its flag, its help, whether its value is
/// secret, how a text value is applied to a `GatewayConfiguration`, and how the configured value reads.
///
/// The defaults live in `GatewayConfiguration.init()` only: a setting's default is what `current`
/// reads from a default configuration. Flags, the environment lookup, `--help`, the start-up summary
/// and README's settings table all come from `GatewayConfiguration.settings`.
public struct Setting: Sendable {
    /// The environment variable, e.g. `GATEWAY_WAIT_TIMEOUT_MS`.
    public let name: String
    /// What it means, as README's table and `--help` say it.
    public let help: String
    /// True for tokens and passwords: the summary shows `****`, never the value.
    public let isSecret: Bool
    /// Offered as a flag (false for settings that belong in the environment only).
    public let hasFlag: Bool
    private let applyText: @Sendable (inout GatewayConfiguration, String) throws -> Void
    private let read: @Sendable (GatewayConfiguration) -> String

    /// A setting named `name`, applied by `apply` (which throws a message for a bad value) and read
    /// back by `current` (empty text for none).
    init(
        _ name: String, _ help: String, secret: Bool = false, flag: Bool = true,
        current: @escaping @Sendable (GatewayConfiguration) -> String,
        apply: @escaping @Sendable (inout GatewayConfiguration, String) throws -> Void
    ) {
        self.name = name
        self.help = help
        self.isSecret = secret
        self.hasFlag = flag
        self.applyText = apply
        self.read = current
    }

    /// The flag: the name without `GATEWAY_`, lower-cased, `_` as `-` (`--wait-timeout-ms`, `--redis-url`).
    public var flag: String {
        let stem = name.hasPrefix("GATEWAY_") ? String(name.dropFirst("GATEWAY_".count)) : name
        return "--" + stem.lowercased().replacingOccurrences(of: "_", with: "-")
    }

    /// The default, as text ("none" when unset).
    public var defaultText: String {
        let text = read(GatewayConfiguration())
        return text.isEmpty ? "none" : text
    }

    /// The value in `configuration` for the start-up summary: `****` for a secret that is set.
    public func summaryValue(in configuration: GatewayConfiguration) -> String {
        let text = read(configuration)
        if text.isEmpty { return "none" }
        return isSecret ? "****" : text
    }

    /// Applies `text` to `configuration`; the error names this setting.
    func apply(_ text: String, to configuration: inout GatewayConfiguration) throws(ConfigurationError) {
        do {
            try applyText(&configuration, text)
        } catch let error as SettingError {
            throw ConfigurationError(setting: name, message: error.message)
        } catch {
            throw ConfigurationError(setting: name, message: "\(error)")
        }
    }
}

/// Why a setting's value cannot be used (the setting's name is added by `Setting.apply`).
struct SettingError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

/// A configuration value that cannot be used.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    /// The environment variable (or flag) at fault.
    public let setting: String
    /// What is wrong with it.
    public let message: String

    public var description: String { "\(setting): \(message)" }
}

// MARK: Value parsers shared by the settings table

enum SettingValue {
    /// A whole number in `range`.
    static func integer(_ text: String, in range: ClosedRange<Int>) throws(SettingError) -> Int {
        guard let value = Int(text), range.contains(value) else { throw SettingError("'\(text)' is not a whole number in \(range)") }
        return value
    }

    /// Milliseconds in `range` as a duration.
    static func milliseconds(_ text: String, in range: ClosedRange<Int>) throws(SettingError) -> Duration {
        .milliseconds(try integer(text, in: range))
    }

    /// 1/0, true/false, yes/no, on/off (empty is false).
    static func flag(_ text: String) throws(SettingError) -> Bool {
        switch text.lowercased() {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off", "": return false
        default: throw SettingError("'\(text)' is not 1/0, true/false, yes/no or on/off")
        }
    }

    /// Comma-separated items, trimmed, empty ones dropped.
    static func list(_ text: String) -> [String] {
        text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// Milliseconds of `duration` as text.
    static func text(milliseconds duration: Duration) -> String {
        String(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)
    }

    /// Whole seconds of `duration` as text, `0` for none.
    static func text(seconds duration: Duration?) -> String {
        String(duration?.components.seconds ?? 0)
    }
}
