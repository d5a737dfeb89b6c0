import Foundation

/// The soak's report: the verdicts, the faults and a table of samples (Markdown), the samples
/// (CSV), and a chart over time (SVG: memory, threads and files, requests and failures, with the
/// fault windows shaded).
public enum SoakReport {
    /// The Markdown report; the chart is referenced as `chartFile`.
    public static func markdown(_ result: Soak.Result, title: String, chartFile: String) -> String {
        var lines = ["# \(title)", "", "![RSS, PSS, threads, files and requests over time](\(chartFile))", ""]
        lines.append(result.passed ? "**Passed.**" : "**FAILED.**")
        lines.append("")
        for verdict in result.verdicts { lines.append("- \(verdict.passed ? "ok" : "FAILED"): \(verdict.text)") }
        lines += [
            "",
            "Answers by status: "
                + result.statuses.sorted { $0.key < $1.key }.map { "\($0.key == 0 ? "none" : String($0.key)): \($0.value)" }.joined(
                    separator: ", "),
        ]
        lines.append("Event-stream messages received: \(result.messagesReceived). The RSS trend is read from \(Int(result.warmUp)) s on.")
        if let idle = result.idle, let after = result.afterLoad {
            lines.append(
                "Idle: RSS \(mib(idle.residentKiB)) MiB, PSS \(mib(idle.proportionalKiB)) MiB, \(idle.threads) threads, \(idle.openFiles) files. "
                    + "After the load: RSS \(mib(after.residentKiB)) MiB, PSS \(mib(after.proportionalKiB)) MiB, \(after.threads) threads, \(after.openFiles) files."
            )
        }
        lines += [
            "", "| s | RSS MiB | PSS MiB | threads | files | pool open | requests/s | non-2xx/s |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for sample in result.samples {
            lines.append(
                "| \(Int(sample.at)) | \(mib(sample.residentKiB)) | \(mib(sample.proportionalKiB)) | \(sample.threads) | \(sample.openFiles) | "
                    + "\(sample.poolOpen) | \(Int(sample.requestsPerSecond)) | \(String(format: "%.1f", sample.failuresPerSecond)) |")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The samples as CSV.
    public static func csv(_ result: Soak.Result) -> String {
        ([SoakSample.csvHeader] + result.samples.map(\.csv)).joined(separator: "\n") + "\n"
    }

    /// Three panels over time: RSS and PSS (MiB); threads and open files; requests/s and non-2xx/s.
    public static func svg(_ result: Soak.Result) -> String {
        let width = 860.0, panelHeight = 180.0, left = 70.0, right = 130.0, top = 30.0, gap = 50.0
        let samples = result.samples
        let end = max(samples.last?.at ?? 1, 1)
        func x(_ seconds: Double) -> Double { left + seconds / end * (width - left - right) }
        var svg = [
            #"<svg xmlns="http://www.w3.org/2000/svg" width="\#(Int(width))" height="\#(Int(top + 3 * (panelHeight + gap) + 10))" font-family="sans-serif" font-size="12">"#,
            #"<rect width="100%" height="100%" fill="white"/>"#,
        ]
        let panels: [(String, [(String, String, (SoakSample) -> Double)])] = [
            (
                "memory (MiB)",
                [("RSS", "#1f77b4", { Double($0.residentKiB) / 1024 }), ("PSS", "#2ca02c", { Double($0.proportionalKiB) / 1024 })]
            ),
            ("threads and open files", [("threads", "#9467bd", { Double($0.threads) }), ("files", "#8c564b", { Double($0.openFiles) })]),
            ("requests/s", [("requests/s", "#1f77b4", { $0.requestsPerSecond }), ("non-2xx/s", "#d62728", { $0.failuresPerSecond })]),
        ]
        for (panel, (title, series)) in panels.enumerated() {
            let originY = top + Double(panel) * (panelHeight + gap) + panelHeight
            let maxValue = max(series.flatMap { line in samples.map(line.2) }.max() ?? 1, 1) * 1.1
            func y(_ value: Double) -> Double { originY - value / maxValue * panelHeight }
            for fault in result.faults {
                let color = fault.kind == "redis restart" ? "#fdd" : "#fed8a0"
                svg.append(
                    #"<rect x="\#(x(fault.start))" y="\#(originY - panelHeight)" width="\#(max(x(fault.end) - x(fault.start), 2))" height="\#(panelHeight)" fill="\#(color)"/>"#
                )
            }
            svg.append(#"<text x="\#(left)" y="\#(originY - panelHeight - 8)" font-weight="bold">\#(title)</text>"#)
            svg.append(#"<line x1="\#(left)" y1="\#(originY)" x2="\#(width - right)" y2="\#(originY)" stroke="black"/>"#)
            svg.append(#"<line x1="\#(left)" y1="\#(originY)" x2="\#(left)" y2="\#(originY - panelHeight)" stroke="black"/>"#)
            for tick in 0...4 {
                let value = maxValue * Double(tick) / 4
                svg.append(
                    #"<text x="\#(left - 6)" y="\#(y(value) + 4)" text-anchor="end">\#(String(format: value < 10 ? "%.1f" : "%.0f", value))</text>"#
                )
                svg.append(#"<line x1="\#(left)" y1="\#(y(value))" x2="\#(width - right)" y2="\#(y(value))" stroke="gainsboro"/>"#)
            }
            for tick in 0...6 {
                let seconds = end * Double(tick) / 6
                svg.append(#"<text x="\#(x(seconds))" y="\#(originY + 16)" text-anchor="middle">\#(Int(seconds)) s</text>"#)
            }
            for (index, (name, color, value)) in series.enumerated() {
                let path = samples.map { "\(x($0.at)),\(y(value($0)))" }.joined(separator: " ")
                svg.append(#"<polyline points="\#(path)" fill="none" stroke="\#(color)" stroke-width="2"/>"#)
                svg.append(
                    #"<text x="\#(width - right + 10)" y="\#(originY - panelHeight + 14 + Double(index) * 18)" fill="\#(color)">\#(name)</text>"#
                )
            }
            if panel == 0 {
                svg.append(
                    ##"<text x="\##(width - right + 10)" y="\##(originY - panelHeight + 60)" fill="#c66">red: Redis restart</text>"##)
                svg.append(
                    ##"<text x="\##(width - right + 10)" y="\##(originY - panelHeight + 78)" fill="#c80">orange: CLIENT PAUSE</text>"##)
            }
        }
        svg.append("</svg>")
        return svg.joined(separator: "\n") + "\n"
    }

    private static func mib(_ kib: Int) -> String { String(format: "%.1f", Double(kib) / 1024) }
}
