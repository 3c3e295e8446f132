import Foundation

/// A counting semaphore that wakes waiters in arrival order and honours cancellation.
public actor FIFOSemaphore {
    private var available: Int
    private var waiters: [(id: UUID, continuation: CheckedContinuation<Void, any Error>)] = []
    /// Background work (cache warming): served only when no other waiter is left.
    private var backgroundWaiters: [(id: UUID, continuation: CheckedContinuation<Void, any Error>)] = []

    public init(_ count: Int) { self.available = count }

    /// Waits for a slot, in arrival order; `background` waiters only get one when no other
    /// waiter is left.
    public func acquire(background: Bool = false) async throws {
        if available > 0, waiters.isEmpty, backgroundWaiters.isEmpty || !background {
            available -= 1
            return
        }
        let id = UUID()
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                if Task.isCancelled {
                    continuation.resume(throwing: CancellationError())
                } else if background {
                    backgroundWaiters.append((id, continuation))
                } else {
                    waiters.append((id, continuation))
                }
            }
        } onCancel: {
            Task { await self.cancel(id) }
        }
    }

    public func release() {
        if !waiters.isEmpty {
            waiters.removeFirst().continuation.resume()
        } else if !backgroundWaiters.isEmpty {
            backgroundWaiters.removeFirst().continuation.resume()
        } else {
            available += 1
        }
    }

    private func cancel(_ id: UUID) {
        if let index = waiters.firstIndex(where: { $0.id == id }) {
            waiters.remove(at: index).continuation.resume(throwing: CancellationError())
        } else if let index = backgroundWaiters.firstIndex(where: { $0.id == id }) {
            backgroundWaiters.remove(at: index).continuation.resume(throwing: CancellationError())
        }
    }

    /// Jobs waiting for a slot.
    public var waiting: Int { waiters.count + backgroundWaiters.count }
}
