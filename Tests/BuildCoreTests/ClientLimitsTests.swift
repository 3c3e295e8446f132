import BuildCore
import Foundation
import Testing

@Suite("per-client limits, in memory") struct ClientLimitsTests {
    let limits: BuildLimits = {
        var limits = BuildLimits()
        limits.clientBuildRate = Rate(2, per: .seconds(3600))
        limits.clientConcurrent = 2
        return limits
    }()

    @Test("the build rate counts starts in a sliding period and says when the oldest leaves it")
    func buildRate() throws {
        var ledger = ClientLedger()
        let t0 = ContinuousClock.now
        try ledger.admit("ip:1", limits: limits, now: t0)
        ledger.started("ip:1", build: "a", limits: limits, now: t0)
        ledger.finished("a")
        ledger.started("ip:1", build: "b", limits: limits, now: t0 + .seconds(600))
        ledger.finished("b")
        let error = #expect(throws: ProxError.self) { try ledger.admit("ip:1", limits: limits, now: t0 + .seconds(1200)) }
        #expect(error?.kind == .rateLimited)
        #expect(error?.retryAfter == 2401)
        #expect(error?.message.contains("--client-build-rate 2/h") == true)
        try ledger.admit("ip:2", limits: limits, now: t0 + .seconds(1200))
        try ledger.admit("ip:1", limits: limits, now: t0 + .seconds(3601))  // the first start has left the hour
    }

    @Test("concurrency counts builds until they finish")
    func concurrency() throws {
        var relaxed = limits
        relaxed.clientBuildRate = .unlimited
        var ledger = ClientLedger()
        ledger.started("ip:1", build: "a", limits: relaxed)
        ledger.started("ip:1", build: "b", limits: relaxed)
        let error = #expect(throws: ProxError.self) { try ledger.admit("ip:1", limits: relaxed) }
        #expect(error?.message.contains("--client-concurrent-builds 2") == true)
        ledger.finished("a")
        try ledger.admit("ip:1", limits: relaxed)
    }

    @Test("memory is bounded: idle clients are forgotten first, busy ones kept")
    func bounded() {
        var ledger = ClientLedger(maxClients: 2)
        let t0 = ContinuousClock.now
        ledger.started("ip:busy", build: "a", limits: limits, now: t0)
        ledger.started("ip:idle", build: "b", limits: limits, now: t0)
        ledger.finished("b")
        ledger.started("ip:new", build: "c", limits: limits, now: t0 + .seconds(7200))
        #expect(ledger.count == 2)
        #expect(throws: ProxError.self) {
            var strict = limits
            strict.clientConcurrent = 1
            try ledger.admit("ip:busy", limits: strict, now: t0 + .seconds(7200))
        }
    }

    @Test("the request rate is a counter per client per window")
    func requestRate() async {
        let limiter = MemoryRateLimiter(rate: Rate(3, per: .seconds(60)), maxClients: 2)
        for _ in 0..<3 { #expect(await limiter.count("ip:1") == nil) }
        let wait = await limiter.count("ip:1")
        #expect(wait != nil && wait! >= 1 && wait! <= 60)
        #expect(await limiter.count("ip:2") == nil)
        // Past the bound on clients, new ones are not counted (and not refused).
        for _ in 0..<10 { #expect(await limiter.count("ip:3") == nil) }
        #expect(await MemoryRateLimiter(rate: .unlimited).count("ip:1") == nil)
    }

    @Test("rates print as they are written")
    func rateDescription() {
        #expect(Rate(30, per: .seconds(3600)).description == "30/h")
        #expect(Rate(600, per: .seconds(60)).description == "600/m")
        #expect(Rate.unlimited.description == "unlimited")
    }
}
