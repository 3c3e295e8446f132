import BuildCore
import Foundation
import NIOCore
import NIOHTTP1

/// A refusal written by the guard: the official JSON error shape, `Connection: close`.
struct GuardResponse {
    let status: HTTPResponseStatus
    let message: String
    var headers: [(String, String)] = []
    /// The answer to a HEAD request: the head only.
    var headOnly = false

    var body: ByteBuffer {
        let id = RequestIdentifier.make()
        let kind = status == .serviceUnavailable ? ProxError.Kind.unavailable : .invalidRequest
        let data = (try? JSONEncoder.prox.encode(APIError.Body(statusCode: Int(status.code), error: .init(message: message, id: id, kind: kind.rawValue)))) ?? Data()
        return ByteBuffer(bytes: data)
    }

    func head(bodyLength: Int) -> HTTPResponseHead {
        var fields = HTTPHeaders([
            ("Content-Type", "application/json; charset=utf-8"), ("Cache-Control", "no-store"), ("Connection", "close"),
            ("Content-Length", String(bodyLength)), ("Server", "Prox"),
        ])
        fields.add(contentsOf: headers)
        return HTTPResponseHead(version: .http1_1, status: status, headers: fields)
    }

    /// The whole response as bytes, written below the HTTP encoder (which would drop the
    /// body of an answer to CONNECT).
    var bytes: ByteBuffer {
        let body = self.body
        var text = "HTTP/1.1 \(status.code) \(status.reasonPhrase)\r\n"
        for (name, value) in head(bodyLength: body.readableBytes).headers { text += "\(name): \(value)\r\n" }
        var buffer = ByteBuffer(string: text + "\r\n")
        if !headOnly { buffer.writeImmutableBuffer(body) }
        return buffer
    }
}
