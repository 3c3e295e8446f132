import CoreMetrics
import Foundation
import HTTPTypes
import Hummingbird
import ProxMetrics

/// Counts requests by route, method and status, and times them to their response head:
/// `prox_http_requests_total{route,method,status}` and
/// `prox_http_request_duration_seconds{route,method}`. The route is the router's pattern
/// (`/api/builds/{id}`), never the request's own path, so clients cannot make new series;
/// requests no route matched count as `unmatched`. Put it first, outside the error
/// middleware, so refusals count with their status.
///
/// Answers that carry an artifact (`X-Prox-Cache`: `/api/download`, a build's artifact)
/// also count in `prox_downloads_total{cache}` (`hit` or `miss`): the hit ratio users see,
/// one per download, where the store's lookups count every look.
public struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: ProxMetrics
    let cacheHeader = HTTPField.Name("X-Prox-Cache")!

    public init(metrics: ProxMetrics) {
        self.metrics = metrics
        for cache in ["hit", "miss"] { _ = metrics.counter("prox_downloads_total", [("cache", cache)]) }
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let began = ContinuousClock.now
        do {
            let response = try await next(request, context)
            record(request, route: context.endpointPath, status: response.status.code, since: began)
            if let cache = response.headers[cacheHeader], cache == "hit" || cache == "miss" {
                metrics.counter("prox_downloads_total", [("cache", cache)]).increment()
            }
            return response
        } catch {
            record(request, route: context.endpointPath, status: (error as? any HTTPResponseError)?.status.code ?? 500, since: began)
            throw error
        }
    }

    private func record(_ request: Request, route: String?, status: Int, since began: ContinuousClock.Instant) {
        let route = route ?? "unmatched"
        let method = request.method.rawValue
        metrics.counter("prox_http_requests_total", [("route", route), ("method", method), ("status", String(status))]).increment()
        let (seconds, attoseconds) = (ContinuousClock.now - began).components
        metrics.timer("prox_http_request_duration_seconds", [("route", route), ("method", method)])
            .recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
