import BuildCore
import Foundation
import Testing

@Suite("SemanticVersion")
struct SemanticVersionTests {
    @Test("parses release versions into their parts")
    func parsesRelease() throws {
        let v = try #require(SemanticVersion("v2.8.4"))
        #expect(v.major == 2)
        #expect(v.minor == 8)
        #expect(v.patch == 4)
        #expect(v.prerelease.isEmpty)
        #expect(v.build == nil)
        #expect(!v.isPrerelease)
        #expect(!v.isPseudoVersion)
        #expect(v.description == "v2.8.4")
    }

    @Test("parses pre-release and build metadata")
    func parsesPrereleaseAndBuild() throws {
        let v = try #require(SemanticVersion("v2.9.0-beta.1+meta.7"))
        #expect(v.major == 2 && v.minor == 9 && v.patch == 0)
        #expect(v.prerelease == ["beta", "1"])
        #expect(v.build == "meta.7")
        #expect(v.isPrerelease)
        #expect(v.description == "v2.9.0-beta.1+meta.7")

        let incompatible = try #require(SemanticVersion("v3.0.0+incompatible"))
        #expect(incompatible.build == "incompatible")
        #expect(!incompatible.isPrerelease)

        let hyphens = try #require(SemanticVersion("v1.0.0-x-y-z.--"))
        #expect(hyphens.prerelease == ["x-y-z", "--"])
    }

    @Test("the leading v is required by init, optional with normalizing")
    func leadingV() throws {
        #expect(SemanticVersion("2.8.4") == nil)
        let normalized = try #require(SemanticVersion(normalizing: "2.8.4"))
        #expect(normalized == SemanticVersion("v2.8.4"))
        #expect(normalized.description == "v2.8.4")
        #expect(SemanticVersion(normalizing: "v2.8.4") == SemanticVersion("v2.8.4"))
        #expect(SemanticVersion(normalizing: "2.9.0-beta.1")?.description == "v2.9.0-beta.1")
        #expect(SemanticVersion(normalizing: "vv2.8.4") == nil)
        #expect(SemanticVersion(normalizing: "master") == nil)
    }

    @Test(
        "rejects malformed versions",
        arguments: [
            "", "v", "v1", "v1.2", "v1.2.3.4", "1.2", "V1.2.3", "v01.2.3", "v1.02.3", "v1.2.03", "v1.2.3-", "v1.2.3+",
            "v1.2.3-01", "v1.2.3-beta..1", "v1.2.3-beta_1", "v1.2.3+meta+more", "v-1.2.3", "v1.-2.3", "v1.2.3 ", " v1.2.3",
            "vx.y.z", "master", "latest", "v1.2.3-é", "v1.2.3/../x", "v1..2", "v1.2.", "v.1.2",
        ]
    )
    func rejects(text: String) {
        #expect(SemanticVersion(text) == nil, "\(text) should not parse")
    }

    @Test("accepts zero components and numeric identifiers without leading zeros", arguments: ["v0.0.0", "v0.1.0", "v10.20.30", "v1.2.3-0", "v1.2.3-0.a", "v1.2.3-rc.10", "v1.2.3+001"])
    func accepts(text: String) throws {
        let v = try #require(SemanticVersion(text))
        #expect(v.description == text, "round trip of \(text)")
    }

    @Test("rejects absurdly long input")
    func tooLong() {
        #expect(SemanticVersion("v1.2.3-" + String(repeating: "a", count: 200)) == nil)
    }

    /// The semver.org precedence example, lowest first.
    static let semverOrgOrder = [
        "v1.0.0-alpha", "v1.0.0-alpha.1", "v1.0.0-alpha.beta", "v1.0.0-beta", "v1.0.0-beta.2", "v1.0.0-beta.11",
        "v1.0.0-rc.1", "v1.0.0",
    ]

    @Test("ordering follows semver precedence")
    func semverOrgPrecedence() throws {
        let versions = try Self.semverOrgOrder.map { try #require(SemanticVersion($0)) }
        for (i, a) in versions.enumerated() {
            for (j, b) in versions.enumerated() {
                #expect((a < b) == (i < j), "\(a) < \(b) should be \(i < j)")
            }
        }
        #expect(versions.shuffled().sorted() == versions)
    }

    @Test("major, minor and patch compare numerically, not as text")
    func numericComponents() throws {
        func v(_ s: String) throws -> SemanticVersion { try #require(SemanticVersion(s)) }
        #expect(try v("v2.8.4") < v("v2.10.0"))
        #expect(try v("v2.9.9") < v("v2.10.0"))
        #expect(try v("v1.99.99") < v("v2.0.0"))
        #expect(try v("v2.8.4") < v("v2.8.10"))
        #expect(try !(v("v2.8.10") < v("v2.8.4")))
    }

    @Test("pre-releases sort below their release but above the previous release")
    func prereleaseBelowRelease() throws {
        func v(_ s: String) throws -> SemanticVersion { try #require(SemanticVersion(s)) }
        #expect(try v("v2.9.0-beta.1") < v("v2.9.0"))
        #expect(try v("v2.8.4") < v("v2.9.0-beta.1"))
        #expect(try !(v("v2.9.0") < v("v2.9.0-beta.1")))
        let sorted = try ["v2.9.0-beta.1", "v2.8.4", "v2.7.6", "v2.8.0"].map(v).sorted()
        #expect(sorted.map(\.description) == ["v2.7.6", "v2.8.0", "v2.8.4", "v2.9.0-beta.1"])
        #expect(try ["v2.9.0-beta.1", "v2.8.4", "v2.7.6"].map(v).filter { !$0.isPrerelease }.max()?.description == "v2.8.4")
    }

    @Test("numeric pre-release identifiers compare numerically and below alphanumeric ones")
    func numericIdentifiers() throws {
        func v(_ s: String) throws -> SemanticVersion { try #require(SemanticVersion(s)) }
        #expect(try v("v1.0.0-rc.2") < v("v1.0.0-rc.10"))
        #expect(try v("v1.0.0-9") < v("v1.0.0-10"))
        #expect(try v("v1.0.0-999") < v("v1.0.0-a"))
        #expect(try v("v1.0.0-1") < v("v1.0.0-1a"))
    }

    @Test("an identifier with a hyphen is alphanumeric, so it sorts above a numeric one (semver 2.0 §11, Go's semver)")
    func hyphenIdentifierIsAlphanumeric() throws {
        let numeric = try #require(SemanticVersion("v1.0.0-0"))
        let hyphenated = try #require(SemanticVersion("v1.0.0--1"))
        #expect(numeric < hyphenated)
        #expect(!(hyphenated < numeric))
    }

    @Test("numeric identifiers too large for Int still compare numerically (Go compares by length, then digits)")
    func hugeNumericIdentifiers() throws {
        let smaller = try #require(SemanticVersion("v1.0.0-99999999999999999999"))  // 20 digits
        let larger = try #require(SemanticVersion("v1.0.0-100000000000000000000"))  // 21 digits
        #expect(smaller < larger)
        #expect(!(larger < smaller))
    }

    @Test("build metadata does not affect precedence")
    func buildIgnoredInOrder() throws {
        let a = try #require(SemanticVersion("v1.2.3+a"))
        let b = try #require(SemanticVersion("v1.2.3+b"))
        #expect(!(a < b) && !(b < a))
    }

    @Test("pseudo-versions are detected in all three Go forms")
    func pseudoVersions() throws {
        for text in [
            "v0.0.0-20240102150405-abcdef123456",
            "v1.2.4-0.20240102150405-abcdef123456",
            "v1.2.3-pre.0.20240102150405-abcdef123456",
        ] {
            let v = try #require(SemanticVersion(text), "\(text) parses")
            #expect(v.isPseudoVersion, "\(text) is a pseudo-version")
            #expect(v.isPrerelease)
        }
        for text in [
            "v1.2.3", "v2.9.0-beta.1", "v0.0.0-2024010215040-abcdef123456",  // 13-digit stamp
            "v0.0.0-20240102150405-abcdef12345",  // 11-digit revision
            "v0.0.0-20240102150405-ABCDEF123456",  // upper-case revision
            "v0.0.0-20240102150405-abcdefghijkl",  // not hex
            "v0.0.0-abcdef123456",
        ] {
            let v = try #require(SemanticVersion(text), "\(text) parses")
            #expect(!v.isPseudoVersion, "\(text) is not a pseudo-version")
        }
    }

    @Test("Codable as a plain string, decoding validates")
    func codable() throws {
        let v = try #require(SemanticVersion("v2.9.0-beta.1"))
        let data = try JSONEncoder().encode([v])
        #expect(String(decoding: data, as: UTF8.self) == #"["v2.9.0-beta.1"]"#)
        #expect(try JSONDecoder().decode([SemanticVersion].self, from: data) == [v])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([SemanticVersion].self, from: Data(#"["2.8.4"]"#.utf8)) }
    }
}
