import BuildCore
import Foundation
import Testing

@Suite("GoProxyFormat")
struct GoProxyFormatTests {
    @Test("escape: each upper-case letter becomes ! and its lower-case form")
    func escape() {
        #expect(GoProxyFormat.escape("github.com/ProxFixture/UpperCase") == "github.com/!prox!fixture/!upper!case")
        #expect(GoProxyFormat.escape("github.com/BurntSushi/toml") == "github.com/!burnt!sushi/toml")
        #expect(GoProxyFormat.escape("github.com/proxfixture/hello") == "github.com/proxfixture/hello")
        #expect(GoProxyFormat.escape("v1.0.0-RC.1") == "v1.0.0-!r!c.1")
        #expect(GoProxyFormat.escape("") == "")
    }

    @Test("GOPROXY list: , and | separators, direct and off skipped, trailing slash dropped")
    func parseList() throws {
        let entries = try GoProxyFormat.entries(of: "https://a.example/,direct,http://b.example|file:///srv/proxy,off")
        #expect(entries.map(\.url) == ["https://a.example", "http://b.example", "file:///srv/proxy"])
        // An entry followed by | falls through on any error; one followed by , (or last) only on not-found.
        #expect(entries.map(\.fallThroughOnError) == [false, true, false])
    }

    @Test("whitespace around entries is ignored; empty entries skipped")
    func whitespace() throws {
        let entries = try GoProxyFormat.entries(of: " https://a.example , ,https://b.example| ")
        #expect(entries.map(\.url) == ["https://a.example", "https://b.example"])
        #expect(entries.map(\.fallThroughOnError) == [false, true])
    }

    @Test("a list with no proxy (only direct/off, or empty) is rejected", arguments: ["direct", "off", "direct,off", "", " , ", "direct|off"])
    func onlyDirect(goproxy: String) {
        let error = #expect(throws: ProxError.self) { try GoProxyFormat.entries(of: goproxy) }
        #expect(error?.kind == .invalidRequest)
        #expect(error?.message.contains("has no module proxy") == true)
    }

    @Test("entries that are not file/http/https URLs are rejected", arguments: ["ftp://proxy.example", "proxy.golang.org", "https://ok.example,gopher://x"])
    func badScheme(goproxy: String) {
        let error = #expect(throws: ProxError.self) { try GoProxyFormat.entries(of: goproxy) }
        #expect(error?.kind == .invalidRequest)
        #expect(error?.message.contains("is not a file://, http:// or https:// URL") == true)
    }
}
