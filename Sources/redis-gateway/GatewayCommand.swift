import CoreUtilities
import Foundation
import GatewayService
import HTTPServer
import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// `redis-gateway`: reads flags (falling back to environment variables) through the settings table,
/// starts the gateway, and on SIGINT/SIGTERM drains and stops.
@main
enum GatewayCommand {
    static func main() {
        let configuration: GatewayConfiguration
        do {
            switch try SettingsCommandLine.parse(Array(CommandLine.arguments.dropFirst()), environment: ProcessInfo.processInfo.environment)
            {
            case .help:
                print(SettingsCommandLine.help, terminator: "")
                return
            case .settingsTable:
                print(SettingsCommandLine.markdownTable, terminator: "")
                return
            case .healthCheck(let environment):
                let target = try GatewayConfiguration(environment: environment)
                let presented =
                    target.http.tlsClientCAFile == nil
                    ? nil : (target.http.tlsCertificateFile ?? "", target.http.tlsKeyFile ?? "")
                exit(
                    HealthCheck.run(
                        host: target.http.host, port: target.http.port, https: target.http.usesTLS, clientCertificate: presented))
            case .run(let environment):
                configuration = try GatewayConfiguration(environment: environment)
            }
        } catch {
            fail("\(error.description)")
        }

        let level = configuration.logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "redis-gateway")

        let signals = SignalWaiter(signals: [SIGINT, SIGTERM, SIGHUP])  // before any thread starts
        let needed = configuration.http.connectionLimit + 1024  // + Redis, files, margin
        if OpenFileLimit.raise(to: needed) < needed {
            logger.warning(
                "the open-files limit is below what the connection limits need; raise it (ulimit -n, --ulimit nofile=)",
                metadata: ["needed": "\(needed)"])
        }
        let gateway: Gateway
        do {
            gateway = try Gateway(configuration: configuration, logger: logger)
        } catch {
            fail(error.description)
        }
        for line in configuration.summary { logger.info("\(line)") }
        logger.info("listening", metadata: ["address": "\(configuration.http.host):\(gateway.port)"])
        var received: Int32
        while true {
            guard let signal = signals.wait(seconds: FreedMemory.interval) else {
                if let free = FreedMemory.releaseIfLarge() {
                    logger.debug("gave freed memory back to the system", metadata: ["free_bytes": "\(free)"])
                }
                continue
            }
            guard signal == SIGHUP else {
                received = signal
                break
            }
            gateway.reloadCertificate()
        }
        logger.info("received signal \(received), shutting down")
        gateway.shutdown()
    }

    private static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("Error: \(message)\n".utf8))
        exit(64)
    }
}
