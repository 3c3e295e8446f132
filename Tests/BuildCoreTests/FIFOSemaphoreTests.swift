import BuildCore
import Foundation
import Testing

/// Records the order in which waiters got through.
actor Arrivals {
    private(set) var order: [Int] = []
    func add(_ n: Int) { order.append(n) }
    var count: Int { order.count }
}

/// Polls `condition` until it holds (or fails the test after `timeout`).
func eventually(_ what: String, timeout: Duration = .seconds(10), _ condition: @Sendable () async -> Bool) async {
    let deadline = ContinuousClock.now.advanced(by: timeout)
    while ContinuousClock.now < deadline {
        if await condition() { return }
        try? await Task.sleep(for: .milliseconds(5))
    }
    Issue.record("timed out waiting for \(what)")
}

@Suite("FIFOSemaphore")
struct FIFOSemaphoreTests {
    @Test("acquires immediately while permits are available")
    func immediate() async throws {
        let semaphore = FIFOSemaphore(2)
        try await semaphore.acquire()
        try await semaphore.acquire()
        #expect(await semaphore.waiting == 0)
    }

    @Test("waiters are woken in arrival order, one per release")
    func fifo() async throws {
        let semaphore = FIFOSemaphore(1)
        try await semaphore.acquire()
        let arrivals = Arrivals()
        var tasks: [Task<Void, any Error>] = []
        for n in 0..<6 {
            tasks.append(Task {
                try await semaphore.acquire()
                await arrivals.add(n)
            })
            // Make sure waiter n is queued before n + 1 arrives.
            await eventually("waiter \(n) to queue") { await semaphore.waiting == n + 1 }
        }
        #expect(await arrivals.count == 0)
        for n in 0..<6 {
            await semaphore.release()
            await eventually("waiter \(n) to wake") { await arrivals.count == n + 1 }
            #expect(await semaphore.waiting == 5 - n)
        }
        for task in tasks { try await task.value }
        #expect(await arrivals.order == Array(0..<6))
    }

    @Test("a release with nobody waiting frees a permit")
    func releaseWithoutWaiters() async throws {
        let semaphore = FIFOSemaphore(1)
        try await semaphore.acquire()
        await semaphore.release()
        try await semaphore.acquire()  // would hang if the permit was lost
        #expect(await semaphore.waiting == 0)
    }

    @Test("a cancelled waiter throws, leaves the queue and does not take a permit")
    func cancellation() async throws {
        let semaphore = FIFOSemaphore(1)
        try await semaphore.acquire()
        let arrivals = Arrivals()
        let cancelled = Task {
            try await semaphore.acquire()
            await arrivals.add(0)
        }
        await eventually("the first waiter to queue") { await semaphore.waiting == 1 }
        let second = Task {
            try await semaphore.acquire()
            await arrivals.add(1)
        }
        await eventually("the second waiter to queue") { await semaphore.waiting == 2 }

        cancelled.cancel()
        let result = await cancelled.result
        #expect(throws: CancellationError.self) { try result.get() }
        await eventually("the cancelled waiter to leave") { await semaphore.waiting == 1 }

        // The next release goes to the second waiter, not to the cancelled one.
        await semaphore.release()
        try await second.value
        #expect(await arrivals.order == [1])
        #expect(await semaphore.waiting == 0)
    }

    @Test("a task cancelled before it waits fails at once")
    func cancelledBeforeWaiting() async throws {
        let semaphore = FIFOSemaphore(0)
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            try await semaphore.acquire()
        }
        let result = await task.result
        #expect(throws: CancellationError.self) { try result.get() }
        #expect(await semaphore.waiting == 0)
    }
}
