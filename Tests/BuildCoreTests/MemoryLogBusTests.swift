import BuildCore
import Foundation
import Synchronization
import Testing

@Suite("MemoryLogBus")
struct MemoryLogBusTests {
    static func line(_ text: String, _ stream: BuildEvent.Stream = .stdout, step: BuildStep = .build) -> BuildEvent {
        BuildEvent(step: step, stream: stream, text: text)
    }

    /// Collects a stream until it ends.
    static func collect(_ stream: AsyncStream<BuildEvent>) async -> [BuildEvent] {
        var out: [BuildEvent] = []
        for await event in stream { out.append(event) }
        return out
    }

    @Test("events are numbered from 1 per build, whatever seq they came with")
    func numbering() throws {
        let bus = MemoryLogBus()
        bus.open("a", start: Date())
        bus.open("b", start: Date())
        bus.append(BuildEvent(seq: 99, step: .get, stream: .stderr, text: "one"), to: "a")
        bus.append(Self.line("two"), to: "a")
        bus.append(Self.line("only b"), to: "b")
        bus.append(Self.line("three"), to: "a")
        let a = try #require(bus.events(of: "a"))
        #expect(a.map(\.seq) == [1, 2, 3])
        #expect(a.map(\.text) == ["one", "two", "three"])
        #expect(a[0].step == .get && a[0].stream == .stderr)
        #expect(bus.events(of: "b")?.map(\.seq) == [1])
        #expect(a.allSatisfy { $0.elapsed >= 0 })
    }

    @Test("elapsed is measured from the start given to open")
    func elapsed() throws {
        let bus = MemoryLogBus()
        bus.open("a", start: Date().addingTimeInterval(-10))
        bus.append(Self.line("x"), to: "a")
        let event = try #require(bus.events(of: "a")?.first)
        #expect(event.elapsed >= 10 && event.elapsed < 20)
    }

    @Test("appending to an unknown or finished build is ignored; opening twice keeps the log")
    func ignored() {
        let bus = MemoryLogBus()
        bus.append(Self.line("nobody"), to: "ghost")
        #expect(bus.events(of: "ghost") == nil)
        bus.open("a", start: Date())
        bus.append(Self.line("1"), to: "a")
        bus.open("a", start: Date())
        #expect(bus.events(of: "a")?.count == 1)
        bus.finish("a")
        bus.append(Self.line("late"), to: "a")
        #expect(bus.events(of: "a")?.map(\.text) == ["1"])
    }

    @Test("subscribe replays every event after the one named, then follows live events until finish")
    func replayThenLive() async throws {
        let bus = MemoryLogBus()
        bus.open("a", start: Date())
        for i in 1...5 { bus.append(Self.line("l\(i)"), to: "a") }
        let fromStart = try #require(bus.subscribe(to: "a", after: 0))
        let afterThree = try #require(bus.subscribe(to: "a", after: 3))
        let afterAll = try #require(bus.subscribe(to: "a", after: 99))
        async let all = Self.collect(fromStart)
        async let tail = Self.collect(afterThree)
        async let none = Self.collect(afterAll)
        bus.append(Self.line("l6"), to: "a")
        bus.append(Self.line("l7", .info), to: "a")
        bus.finish("a")
        #expect(await all.map(\.seq) == Array(1...7))
        #expect(await all.map(\.text) == (1...7).map { "l\($0)" })
        #expect(await tail.map(\.seq) == [4, 5, 6, 7])
        #expect(await none.map(\.seq) == [6, 7])
    }

    @Test("subscribing after finish replays and then ends")
    func afterFinish() async throws {
        let bus = MemoryLogBus()
        bus.open("a", start: Date())
        for i in 1...3 { bus.append(Self.line("l\(i)"), to: "a") }
        bus.finish("a")
        let stream = try #require(bus.subscribe(to: "a", after: 1))
        #expect(await Self.collect(stream).map(\.seq) == [2, 3])
        let empty = try #require(bus.subscribe(to: "a", after: 3))
        #expect(await Self.collect(empty).isEmpty)
    }

    @Test("subscribing to an unknown build returns nil")
    func unknown() {
        #expect(MemoryLogBus().subscribe(to: "nope", after: 0) == nil)
    }

    @Test("a subscriber that goes away does not disturb the others")
    func cancelledSubscriber() async throws {
        let bus = MemoryLogBus()
        bus.open("a", start: Date())
        let keep = try #require(bus.subscribe(to: "a", after: 0))
        do {
            let gone = try #require(bus.subscribe(to: "a", after: 0))
            let task = Task { await Self.collect(gone) }
            task.cancel()
            _ = await task.value
        }
        async let kept = Self.collect(keep)
        bus.append(Self.line("x"), to: "a")
        bus.finish("a")
        #expect(await kept.map(\.text) == ["x"])
    }

    @Test("only the most recent builds are retained; dropping a log ends its subscribers")
    func retention() async throws {
        let bus = MemoryLogBus(retainedBuilds: 2)
        bus.open("a", start: Date())
        bus.append(Self.line("a1"), to: "a")
        let watcher = try #require(bus.subscribe(to: "a", after: 0))
        bus.open("b", start: Date())
        #expect(bus.events(of: "a") != nil)
        bus.open("c", start: Date())
        #expect(bus.events(of: "a") == nil)
        #expect(bus.subscribe(to: "a", after: 0) == nil)
        #expect(bus.events(of: "b") != nil && bus.events(of: "c") != nil)
        #expect(await Self.collect(watcher).map(\.text) == ["a1"])
    }

    @Test("output past maxLinesPerBuild is replaced by one note; info lines still get through")
    func truncation() throws {
        let bus = MemoryLogBus(maxLinesPerBuild: 3)
        bus.open("a", start: Date())
        for i in 1...10 { bus.append(Self.line("out\(i)"), to: "a") }
        bus.append(Self.line("result", .info, step: .done), to: "a")
        let events = try #require(bus.events(of: "a"))
        #expect(events.map(\.seq) == [1, 2, 3, 4, 5])
        #expect(events.prefix(3).map(\.text) == ["out1", "out2", "out3"])
        #expect(events[3].stream == .info && events[3].text.contains("truncated after 3 lines"))
        #expect(events[4].text == "result")
    }

    @Test("appends from many threads get unique consecutive numbers")
    func concurrentAppends() async throws {
        let bus = MemoryLogBus()
        bus.open("a", start: Date())
        let stream = try #require(bus.subscribe(to: "a", after: 0))
        async let seen = Self.collect(stream)
        await withTaskGroup(of: Void.self) { group in
            for worker in 0..<8 {
                group.addTask {
                    for i in 0..<250 { bus.append(Self.line("\(worker)-\(i)"), to: "a") }
                }
            }
        }
        bus.finish("a")
        let events = try #require(bus.events(of: "a"))
        #expect(events.map(\.seq) == Array(1...2000))
        #expect(Set(events.map(\.text)).count == 2000)
        #expect(await seen.map(\.seq) == Array(1...2000))
    }

    /// A watcher that goes away (its task cancelled: a page reloaded) while lines are being
    /// appended. Cancelling a task runs its stream's onTermination under the task's status
    /// lock; delivering a line resumes the task under that same lock. Delivering while
    /// holding the bus's lock, which onTermination also takes, deadlocked both threads (and,
    /// with them, a two-core machine's whole cooperative pool). Appends and cancellations run
    /// on threads of their own here, so a deadlock is reported instead of hanging the tests.
    /// It keeps both cores busy for about 2 s, which would upset timing-sensitive tests
    /// running beside it: scripts/test.sh runs it on its own (`PROX_STRESS=1`).
    @Test(
        "watchers cancelled while lines are appended never deadlock the bus",
        .enabled(if: ProcessInfo.processInfo.environment["PROX_STRESS"] == "1", "run alone by scripts/test.sh (PROX_STRESS=1)")
    )
    func cancellationsDuringAppends() async throws {
        let bus = MemoryLogBus(maxLinesPerBuild: 10_000_000)
        bus.open("a", start: Date())
        let appended = Atomic<Int>(0)
        let cancelled = Atomic<Int>(0)
        let stop = Atomic<Bool>(false)
        let appender = Thread {
            while !stop.load(ordering: .relaxed) {
                bus.append(Self.line("x"), to: "a")
                appended.add(1, ordering: .relaxed)
            }
        }
        let canceller = Thread {
            while !stop.load(ordering: .relaxed) {
                guard let stream = bus.subscribe(to: "a", after: .max) else { return }
                let watcher = Task { for await _ in stream {} }
                for _ in 0..<Int.random(in: 0..<200) { _ = appended.load(ordering: .relaxed) }  // cancel at varied moments
                watcher.cancel()
                cancelled.add(1, ordering: .relaxed)
            }
        }
        appender.start()
        canceller.start()
        // About 2 s of both (some 10,000 lines a second here, a few MB); both threads must
        // still be making progress at the end.
        var last = (0, 0)
        for _ in 0..<20 {
            try await Task.sleep(for: .milliseconds(100))
            last = (appended.load(ordering: .relaxed), cancelled.load(ordering: .relaxed))
        }
        try await Task.sleep(for: .milliseconds(500))
        let now = (appended.load(ordering: .relaxed), cancelled.load(ordering: .relaxed))
        stop.store(true, ordering: .relaxed)
        #expect(now.0 > last.0 && now.1 > last.1, "appends \(last.0) -> \(now.0), cancellations \(last.1) -> \(now.1): the bus deadlocked")
        #expect(now.1 > 100, "the race was exercised: \(now.1) watchers cancelled")
    }
}
