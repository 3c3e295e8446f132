import Foundation
import ObjectStorage
import Testing

/// SigV4 against AWS's published vectors: the Signature Version 4 test suite (get-vanilla,
/// its query-order case, post-vanilla) and the S3 API reference's ranged GET Object, whose
/// canonical request and string to sign are published too.
@Suite struct SigV4SignerTests {
    static let suite = SigV4Signer(
        credentials: AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
        region: "us-east-1", service: "service")
    /// 2015-08-30T12:36:00Z.
    static let suiteDate = Date(timeIntervalSince1970: 1_440_938_160)

    @Test func theTestSuitesVectors() {
        let vanilla = Self.suite.sign(.init(method: "GET", host: "example.amazonaws.com", path: "/"), at: Self.suiteDate)
        #expect(
            vanilla.authorization
                == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        )
        #expect(vanilla.stringToSign.hasSuffix("\nbb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63"))
        #expect(vanilla.headers.first { $0.name == "x-amz-date" }?.value == "20150830T123600Z")

        let queryOrder = Self.suite.sign(
            .init(method: "GET", host: "example.amazonaws.com", path: "/", query: [("Param2", "value2"), ("Param1", "value1")]), at: Self.suiteDate)
        #expect(queryOrder.signature == "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500")

        let post = Self.suite.sign(.init(method: "POST", host: "example.amazonaws.com", path: "/"), at: Self.suiteDate)
        #expect(post.signature == "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b")
    }

    @Test func s3sDocumentedRangedGetObject() {
        let signer = SigV4Signer(
            credentials: AWSCredentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
            region: "us-east-1")
        let signed = signer.sign(
            .init(
                method: "GET", host: "examplebucket.s3.amazonaws.com", path: "/test.txt",
                headers: [("Range", "bytes=0-9"), ("x-amz-content-sha256", SigV4Signer.emptyPayloadHash)]),
            at: Date(timeIntervalSince1970: 1_369_353_600))  // 2013-05-24T00:00:00Z
        #expect(
            signed.canonicalRequest == """
                GET
                /test.txt

                host:examplebucket.s3.amazonaws.com
                range:bytes=0-9
                x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
                x-amz-date:20130524T000000Z

                host;range;x-amz-content-sha256;x-amz-date
                e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
                """)
        #expect(
            signed.stringToSign == """
                AWS4-HMAC-SHA256
                20130524T000000Z
                20130524/us-east-1/s3/aws4_request
                7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972
                """)
        #expect(signed.signature == "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
        #expect(signed.headers.contains { $0.name == "host" } == false, "the client sends host itself")
    }

    @Test func s3sDocumentedPresignedURL() {
        let signer = SigV4Signer(
            credentials: AWSCredentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
            region: "us-east-1")
        let url = signer.presignedURL(
            method: "GET", host: "examplebucket.s3.amazonaws.com", path: "/test.txt", expires: .seconds(86400),
            at: Date(timeIntervalSince1970: 1_369_353_600))
        #expect(
            url
                == "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
        )
        let capped = signer.presignedURL(method: "GET", host: "h", path: "/k", expires: .seconds(30 * 24 * 3600), at: Date())
        #expect(capped.contains("X-Amz-Expires=604800&"), "at most 7 days, as S3 allows")
    }

    @Test func keysAreEncodedOnceAndATokenIsSigned() {
        let signer = SigV4Signer(credentials: AWSCredentials(accessKeyID: "id", secretAccessKey: "secret", sessionToken: "token"), region: "garage")
        let signed = signer.sign(.init(method: "PUT", host: "127.0.0.1:9000", path: "/bucket/prox/ab cd+é"), at: Self.suiteDate)
        #expect(signed.canonicalRequest.split(separator: "\n")[1] == "/bucket/prox/ab%20cd%2B%C3%A9")
        #expect(signed.headers.contains { $0.name == "x-amz-security-token" && $0.value == "token" })
        #expect(signed.authorization?.contains("SignedHeaders=host;x-amz-date;x-amz-security-token,") == true)
        #expect(AWSCredentials.environment(["AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b"]) == AWSCredentials(accessKeyID: "a", secretAccessKey: "b"))
        #expect(AWSCredentials.environment(["AWS_ACCESS_KEY_ID": "a"]) == nil)
    }
}
