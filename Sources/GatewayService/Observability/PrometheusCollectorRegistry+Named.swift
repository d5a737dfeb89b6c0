import Prometheus

extension PrometheusCollectorRegistry {
    /// A counter exported as `<name>_total`.
    func counter(_ name: String, _ help: String, labels: [(String, String)] = []) -> Counter {
        makeCounter(descriptor: .init(metricName: name, unitName: "total", helpText: help), labels: labels)
    }

    /// A gauge exported as `<name>`.
    func gauge(_ name: String, _ help: String, labels: [(String, String)] = []) -> Gauge {
        makeGauge(descriptor: .init(metricName: name, unitName: "", helpText: help), labels: labels)
    }
}
