import Foundation
import Glibc

extension Process {
    /// `run()`, with no signal blocked in the child.
    ///
    /// A child inherits the signal mask of the thread that spawns it, and Foundation's
    /// `Process` does not reset it: launched from a Swift concurrency or Dispatch thread
    /// (which block SIGTERM, SIGINT, SIGHUP, ...), the child would ignore `terminate()`.
    /// The mask is cleared on this thread for the duration of the call and then restored.
    public func runWithDefaultSignalMask() throws {
        var none = sigset_t()
        var saved = sigset_t()
        sigemptyset(&none)
        pthread_sigmask(SIG_SETMASK, &none, &saved)
        defer { pthread_sigmask(SIG_SETMASK, &saved, nil) }
        try run()
    }

    /// SIGTERM, then SIGKILL if it is still running after `grace` (at once when `grace` is
    /// zero); returns once it has exited.
    public func terminate(grace: Duration) {
        if isRunning {
            if grace > .zero {
                terminate()
                let deadline = ContinuousClock.now + grace
                while isRunning, ContinuousClock.now < deadline { usleep(10_000) }
            }
            if isRunning { Glibc.kill(processIdentifier, SIGKILL) }
        }
        waitUntilExit()
    }
}
