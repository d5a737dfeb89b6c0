extension Duration {
    /// The duration in seconds as a floating-point number.
    public var secondsDouble: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }

    /// The duration in milliseconds as a floating-point number.
    public var millisecondsDouble: Double {
        secondsDouble * 1000
    }
}
