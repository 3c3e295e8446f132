import BuildCore
import Foundation
import ProxTestSupport
import Testing

/// Records the order in which waiters got through.
actor Arrivals {
    private(set) var order: [Int] = []
    func add(_ n: Int) { order.append(n) }
    var count: Int { order.count }
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

    @Test("background waiters get a permit only when no other waiter is left")
    func background() async throws {
        let semaphore = FIFOSemaphore(1)
        try await semaphore.acquire()
        let arrivals = Arrivals()
        // 0: background, first to arrive; 1 and 2: users, after it.
        for (n, background) in [(0, true), (1, false), (2, false)] {
            Task {
                try await semaphore.acquire(background: background)
                await arrivals.add(n)
            }
            #expect(await eventually(timeout: .seconds(10)) { await semaphore.waiting == n + 1 }, "waiter \(n) to queue")
        }
        for n in 1...3 {
            await semaphore.release()
            #expect(await eventually(timeout: .seconds(10)) { await arrivals.count == n })
        }
        #expect(await arrivals.order == [1, 2, 0], "the users first, then the background work")
        // A free permit goes to background work at once when nobody else waits.
        let free = FIFOSemaphore(1)
        try await free.acquire(background: true)
        #expect(await free.waiting == 0)
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
            #expect(await eventually(timeout: .seconds(10)) { await semaphore.waiting == n + 1 }, "waiter \(n) to queue")
        }
        #expect(await arrivals.count == 0)
        for n in 0..<6 {
            await semaphore.release()
            #expect(await eventually(timeout: .seconds(10)) { await arrivals.count == n + 1 }, "waiter \(n) to wake")
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
        #expect(await eventually(timeout: .seconds(10)) { await semaphore.waiting == 1 }, "the first waiter to queue")
        let second = Task {
            try await semaphore.acquire()
            await arrivals.add(1)
        }
        #expect(await eventually(timeout: .seconds(10)) { await semaphore.waiting == 2 }, "the second waiter to queue")

        cancelled.cancel()
        let result = await cancelled.result
        #expect(throws: CancellationError.self) { try result.get() }
        #expect(await eventually(timeout: .seconds(10)) { await semaphore.waiting == 1 }, "the cancelled waiter to leave")

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
