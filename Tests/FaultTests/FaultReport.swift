import Foundation

/// One row of the fault-figures table (`docs/fault-tests.md`), written by each fault test when
/// `FAULT_REPORT_DIR` is set (`scripts/fault-report.sh` sets it and assembles the table).
struct FaultReport {
    let scenario: String
    let detect: String
    let recover: String
    let errors: String
    let notes: String

    /// Writes the row to `$FAULT_REPORT_DIR/<scenario>.row` when that variable is set.
    func write() {
        guard let directory = ProcessInfo.processInfo.environment["FAULT_REPORT_DIR"] else { return }
        let row = "| \(scenario) | \(detect) | \(recover) | \(errors) | \(notes) |\n"
        let name = scenario.filter { $0.isLetter || $0.isNumber }
        try? row.write(toFile: "\(directory)/\(name).row", atomically: true, encoding: .utf8)
    }
}

/// Milliseconds with no decimals, for the table.
func ms(_ seconds: Double) -> String { "\(Int((seconds * 1000).rounded())) ms" }
