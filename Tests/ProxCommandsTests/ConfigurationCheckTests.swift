import BuildCore
import ProxCommands
import Testing

/// Settings that are checked when proxhub or proxagent starts: a bad value is a
/// ConfigurationError (the command prints it and exits), never a surprise later.
@Suite struct ConfigurationCheckTests {
    @Test("limit and token settings are checked at start-up")
    func settings() throws {
        let c = try HubConfiguration.resolve(
            flags: ["--client-build-rate": "5/m", "--client-request-rate": "100", "--trusted-proxies": "10.0.0.0/8, ::1", "--pull-token": "aaaaaaaaaaaaaaaa,bbbbbbbbbbbbbbbb"],
            environment: [:]
        )
        #expect(c.buildLimits.clientBuildRate == Rate(5, per: .seconds(60)))
        #expect(c.clientRequestRate == Rate(100, per: .seconds(60)))
        #expect(c.trustedProxies.count == 2)
        #expect(c.pullTokens.count == 2)
        #expect(try HubConfiguration.resolve(flags: ["--client-build-rate": "0"], environment: [:]).buildLimits.clientBuildRate == .unlimited)
        let bad: [[String: String]] = [
            ["--client-build-rate": "5/week"], ["--client-request-rate": "lots"], ["--trusted-proxies": "10.0.0.0/99"],
            ["--pull-token": "short"], ["--admin-token": "aaaaaaaaaaaaaaaa", "--pull-token": "aaaaaaaaaaaaaaaa"],
        ]
        for flags in bad { #expect(throws: ConfigurationError.self, "\(flags)") { try HubConfiguration.resolve(flags: flags, environment: [:]) } }
    }

    @Test func resourceSettingsAreCheckedAtStart() throws {
        let c = try HubConfiguration.resolve(flags: ["--build-memory": "2GiB", "--build-cpus": "2", "--build-disk": "0", "--build-memory-fence": "rlimit"], environment: [:])
        #expect(c.buildResources == BuildResources(memory: 2 << 30, cpus: 2, disk: nil, fence: .rlimit))
        #expect(try HubConfiguration.resolve(flags: [:], environment: [:]).buildResources.memory == 3 << 30)
        for flags in [["--build-memory": "1MiB"], ["--build-memory-fence": "docker"], ["--build-cpus": "-1"], ["--build-disk": "lots"]] {
            #expect(throws: ConfigurationError.self, "\(flags)") { try HubConfiguration.resolve(flags: flags, environment: [:]) }
        }
        #expect(try AgentConfiguration.resolve(flags: ["--hub-url": "http://127.0.0.1:1", "--push-token": "t", "--build-memory": "1GiB"], environment: [:]).buildResources.memory == 1 << 30)
    }

    @Test("toolchain settings: versions are full go names, lists have no empty entries")
    func toolchainSettings() throws {
        #expect(throws: ConfigurationError.self) { try HubConfiguration.resolve(flags: ["--go-version": "1.23"], environment: [:]) }
        #expect(throws: ConfigurationError.self) { try HubConfiguration.resolve(flags: ["--go-version": "go1.23"], environment: [:]) }
        #expect(throws: ConfigurationError.self) { try HubConfiguration.resolve(flags: ["--go": "/a,,/b"], environment: [:]) }
        #expect(throws: ConfigurationError.self) { try HubConfiguration.resolve(flags: ["--toolchain-download": "maybe"], environment: [:]) }
        let list = try HubConfiguration.resolve(flags: ["--go": "/flag/go"], environment: ["PB_GO": "/a/go, /b/go", "PB_TOOLCHAIN_DOWNLOAD": "false"])
        #expect(list.goExecutables == ["/a/go", "/b/go"])
        #expect(list.toolchainDownload == false)
        #expect(try HubConfiguration.resolve(flags: ["--go-version": "go1.23.5"], environment: [:]).goVersion == "go1.23.5")
    }

    @Test func storageRedirectWarmingAndMetricsSettingsAreChecked() throws {
        let s3 = try HubConfiguration.resolve(
            flags: ["--storage": "s3://prox-artifacts/builds", "--s3-endpoint": "http://127.0.0.1:9000", "--download-redirect": "presigned"],
            environment: ["PB_S3_REGION": "auto", "PB_DOWNLOAD_REDIRECT_TTL": "10m", "PB_WARM_TOP": "20"])
        #expect(s3.storage == "s3://prox-artifacts/builds" && s3.s3Region == "auto" && s3.downloadRedirect == .presigned)
        #expect(s3.downloadRedirectTTL == .seconds(600) && s3.warmTop == 20)
        #expect(try HubConfiguration.resolve(flags: ["--storage": "local"], environment: [:]).storage == nil)
        let cdn = try HubConfiguration.resolve(flags: ["--storage": "s3://bucket", "--download-redirect": "https://cdn.example.com/prox/"], environment: [:])
        #expect(cdn.downloadRedirect == .baseURL("https://cdn.example.com/prox"))
        let bad: [([String: String], String)] = [
            (["--storage": "bucket"], "--storage must be s3://"),
            (["--storage": "s3://UPPER"], "--storage: UPPER is not a bucket name"),
            (["--storage": "s3://bucket", "--s3-endpoint": "ftp://x"], "--s3-endpoint must be"),
            (["--s3-endpoint": "http://127.0.0.1:9000"], "--storage/PB_STORAGE is not s3://"),
            (["--download-redirect": "presigned"], "it needs --storage s3://"),
            (["--storage": "s3://bucket", "--download-redirect": "cdn.example.com"], "must be off, presigned, or a CDN's base URL"),
            (["--storage": "s3://bucket", "--download-redirect": "presigned", "--download-redirect-ttl": "8d"], "from 1s to 7 days"),
            (["--warm-top": "-1"], "--warm-top"),
            (["--warm-top": "5", "--warm-window": "10m"], "at least 1h"),
        ]
        for (flags, message) in bad {
            do {
                _ = try HubConfiguration.resolve(flags: flags, environment: [:])
                Issue.record("\(flags) was accepted")
            } catch {
                #expect(error.description.contains(message), "\(flags): \(error.description)")
            }
        }
        let agent = try AgentConfiguration.resolve(flags: ["--hub-url": "http://127.0.0.1:1", "--push-token": "t", "--metrics-port": "9100"], environment: [:])
        #expect(agent.metricsPort == 9100 && agent.metricsHost == "127.0.0.1")
        #expect(try AgentConfiguration.resolve(flags: ["--hub-url": "http://127.0.0.1:1", "--push-token": "t"], environment: [:]).metricsPort == nil)
        #expect(throws: ConfigurationError.self) {
            try AgentConfiguration.resolve(flags: ["--hub-url": "http://127.0.0.1:1", "--push-token": "t", "--metrics-port": "99999"], environment: [:])
        }
    }
}
