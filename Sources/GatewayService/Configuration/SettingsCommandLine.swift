import Foundation

/// The command line of `redis-gateway`, read through the settings table: every setting with a flag
/// is `--flag VALUE` or `--flag=VALUE` and wins over its environment variable.
public enum SettingsCommandLine {
    /// What the command line asks for.
    public enum Request: Equatable {
        /// Run with this environment (the process environment with the flags applied over it).
        case run(environment: [String: String])
        /// Print the help text.
        case help
        /// Print README's settings table (Markdown).
        case settingsTable
        /// Ask the gateway this configuration describes for `/healthz` and exit 0 only on a 200 (the
        /// container's HEALTHCHECK, without shipping curl in the image).
        case healthCheck(environment: [String: String])
    }

    /// Reads `arguments` (without the program name) over `environment`; throws for an unknown flag or
    /// a flag without a value.
    public static func parse(_ arguments: [String], environment: [String: String]) throws(ConfigurationError) -> Request {
        let byFlag = Dictionary(
            uniqueKeysWithValues: GatewayConfiguration.settings.filter(\.hasFlag).map { ($0.flag, $0) })
        var environment = environment
        var healthCheck = false
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if argument == "--help" || argument == "-h" { return .help }
            if argument == "--settings-table" { return .settingsTable }
            if argument == "--health-check" {
                healthCheck = true
                continue
            }
            let parts = argument.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let setting = byFlag[String(parts[0])] else {
                throw ConfigurationError(setting: argument, message: "unknown option (see --help)")
            }
            if parts.count == 2 {
                environment[setting.name] = String(parts[1])
            } else {
                guard index < arguments.count else { throw ConfigurationError(setting: argument, message: "needs a value") }
                environment[setting.name] = arguments[index]
                index += 1
            }
        }
        return healthCheck ? .healthCheck(environment: environment) : .run(environment: environment)
    }

    /// `--help`: usage, then every setting with its flag, variable and default.
    public static var help: String {
        var text = """
            USAGE: redis-gateway [--flag VALUE ...]

            Redis behind plain HTTP, through one shared, bounded connection pool.
            Every flag falls back to its environment variable, then to its default.

            OPTIONS:

            """
        for setting in GatewayConfiguration.settings {
            let flag = setting.hasFlag ? setting.flag : "(environment only)"
            text += "  \(flag) (env \(setting.name); default \(setting.defaultText))\n      \(plain(setting.help))\n"
        }
        text += "  --settings-table\n      print the settings as README's Markdown table\n"
        text += "  --health-check\n      GET /healthz of the gateway these settings describe; exit 0 on 200 (the container's HEALTHCHECK)\n"
        text += "  -h, --help\n      show this help\n"
        return text
    }

    /// README's settings table, in Markdown.
    public static var markdownTable: String {
        var table = "| environment variable | flag | default | meaning |\n|---|---|---|---|\n"
        for setting in GatewayConfiguration.settings {
            let flag = setting.hasFlag ? "`\(setting.flag)`" : "(environment only)"
            let defaultText = setting.defaultText == "none" ? "none" : "`\(setting.defaultText)`"
            table += "| `\(setting.name)` | \(flag) | \(defaultText) | \(setting.help) |\n"
        }
        return table
    }

    private static func plain(_ markdown: String) -> String {
        markdown.replacingOccurrences(of: "`", with: "")
    }
}
