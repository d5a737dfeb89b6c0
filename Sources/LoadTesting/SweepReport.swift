/// The sweep's report: a Markdown table, a recommendation, and an SVG chart of requests/s and p99
/// against pool size, pooled beside connection-per-request.
public enum SweepReport {
    /// The Markdown report (the chart is referenced as `chartFile`).
    public static func markdown(_ points: [PoolSweep.Point], scenario: String, chartFile: String) -> String {
        var lines = [
            "# Pool sizing sweep: \(scenario)", "", "![requests/s and p99 against pool size](\(chartFile))", "",
            "| mode | pool size | connections | requests/s | p50 ms | p99 ms | success |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for point in points {
            lines.append(
                "| \(point.mode) | \(point.poolSize) | \(point.connections) | \(format(point.requestsPerSecond, 0)) | "
                    + "\(format(point.p50, 2)) | \(format(point.p99, 2)) | \(format(point.successRate * 100, 2)) % |")
        }
        lines += ["", recommendation(points)]
        return lines.joined(separator: "\n") + "\n"
    }

    /// The smallest pool that reaches 90 % of the best pooled rate at the highest concurrency (runs vary by a few percent).
    public static func recommendation(_ points: [PoolSweep.Point]) -> String {
        let pooled = points.filter { $0.mode == "pooled" }
        guard let top = pooled.map(\.connections).max() else { return "No pooled points were measured." }
        let atTop = pooled.filter { $0.connections == top }.sorted { $0.poolSize < $1.poolSize }
        guard let best = atTop.map(\.requestsPerSecond).max(), best > 0,
            let enough = atTop.first(where: { $0.requestsPerSecond >= 0.9 * best })
        else { return "No throughput was measured." }
        return "Recommended pool size: **\(enough.poolSize)** — the smallest that reaches 90 % of the best rate "
            + "(\(format(best, 0)) requests/s) at \(top) connections; larger pools add Redis connections without adding throughput."
    }

    /// Two panels (requests/s, p99) with one line per concurrency level; per-request points as
    /// dashed horizontal lines.
    public static func svg(_ points: [PoolSweep.Point]) -> String {
        let sizes = Array(Set(points.filter { $0.mode == "pooled" }.map(\.poolSize))).sorted()
        let concurrencies = Array(Set(points.map(\.connections))).sorted()
        let colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"]
        let width = 760.0, panelHeight = 260.0, left = 70.0, right = 150.0, top = 30.0
        var svg = [
            #"<svg xmlns="http://www.w3.org/2000/svg" width="\#(Int(width))" height="\#(Int(2 * panelHeight + 110))" font-family="sans-serif" font-size="12">"#,
            #"<rect width="100%" height="100%" fill="white"/>"#,
        ]
        func x(_ size: Int) -> Double {
            guard sizes.count > 1, let index = sizes.firstIndex(of: size) else { return left }
            return left + Double(index) / Double(sizes.count - 1) * (width - left - right)
        }
        for (panel, (title, value)) in [("requests/s", \PoolSweep.Point.requestsPerSecond), ("p99 latency (ms)", \PoolSweep.Point.p99)]
            .enumerated()
        {
            let originY = top + Double(panel) * (panelHeight + 40) + panelHeight
            let maxValue = max(points.map { $0[keyPath: value] }.max() ?? 1, 1e-9) * 1.1
            func y(_ v: Double) -> Double { originY - v / maxValue * panelHeight }
            svg.append(#"<text x="\#(left)" y="\#(originY - panelHeight - 8)" font-weight="bold">\#(title) against pool size</text>"#)
            svg.append(#"<line x1="\#(left)" y1="\#(originY)" x2="\#(width - right)" y2="\#(originY)" stroke="black"/>"#)
            svg.append(#"<line x1="\#(left)" y1="\#(originY)" x2="\#(left)" y2="\#(originY - panelHeight)" stroke="black"/>"#)
            for tick in 0...4 {
                let v = maxValue * Double(tick) / 4
                svg.append(#"<text x="\#(left - 6)" y="\#(y(v) + 4)" text-anchor="end">\#(format(v, v < 10 ? 1 : 0))</text>"#)
                svg.append(#"<line x1="\#(left)" y1="\#(y(v))" x2="\#(width - right)" y2="\#(y(v))" stroke="gainsboro"/>"#)
            }
            for size in sizes {
                svg.append(#"<text x="\#(x(size))" y="\#(originY + 16)" text-anchor="middle">\#(size)</text>"#)
            }
            for (index, connections) in concurrencies.enumerated() {
                let color = colors[index % colors.count]
                let line = points.filter { $0.mode == "pooled" && $0.connections == connections }.sorted { $0.poolSize < $1.poolSize }
                let path = line.map { "\(x($0.poolSize)),\(y($0[keyPath: value]))" }.joined(separator: " ")
                svg.append(#"<polyline points="\#(path)" fill="none" stroke="\#(color)" stroke-width="2"/>"#)
                for point in line {
                    svg.append(#"<circle cx="\#(x(point.poolSize))" cy="\#(y(point[keyPath: value]))" r="3" fill="\#(color)"/>"#)
                }
                let legendY = originY - panelHeight + 14 + Double(index) * 32
                svg.append(#"<text x="\#(width - right + 10)" y="\#(legendY)" fill="\#(color)">pooled, \#(connections) conn.</text>"#)
                if let perRequest = points.first(where: { $0.mode == "per-request" && $0.connections == connections }) {
                    let py = y(perRequest[keyPath: value])
                    svg.append(
                        #"<line x1="\#(left)" y1="\#(py)" x2="\#(width - right)" y2="\#(py)" stroke="\#(color)" stroke-dasharray="6,4"/>"#)
                    svg.append(#"<text x="\#(width - right + 10)" y="\#(legendY + 14)" fill="\#(color)">- - per-request</text>"#)
                }
            }
        }
        svg.append("</svg>")
        return svg.joined(separator: "\n") + "\n"
    }
}
