import RedisClient
import Testing

/// The locator's memory of the master through a failover: a Sentinel that has not heard of the
/// switch yet still names the old master, and that answer must not send the gateway back to it
/// (it did: SentinelFailoverTests.masterKilled saw a second `gap` on its event stream).
@Suite struct MasterLocatorTests {
    let old = ServerAddress(host: "127.0.0.1", port: 7001)
    let new = ServerAddress(host: "127.0.0.1", port: 7002)

    func locator() -> MasterLocator {
        MasterLocator(
            settings: SentinelSettings(addresses: [ServerAddress(host: "127.0.0.1", port: 1)], masterName: "mymaster"),
            timeout: .milliseconds(100))
    }

    @Test func anAnswerNamingTheReplacedMasterIsStaleAfterASwitch() {
        let locator = locator()
        #expect(locator.update(old) == true)
        #expect(locator.update(new) == true, "+switch-master")
        #expect(locator.update(old) == false, "a lagging Sentinel's answer")
        #expect(locator.knownMaster == new)
    }

    @Test func anAnswerNamingTheReplacedMasterIsStaleDuringAPromotion() {
        let locator = locator()
        #expect(locator.update(old) == true)
        locator.failoverStarted(promoting: new)
        #expect(locator.update(old) == false, "the Sentinels name the old master until the failover ends")
        #expect(locator.knownMaster == new)
        #expect(locator.update(new) == false, "+switch-master for the promoted replica: no change, no reconnect")
    }

    @Test func aMoveToAThirdAddressIsTaken() {
        let locator = locator()
        let third = ServerAddress(host: "127.0.0.1", port: 7003)
        locator.update(old)
        locator.update(new)
        #expect(locator.update(third) == true)
        #expect(locator.knownMaster == third)
    }
}
