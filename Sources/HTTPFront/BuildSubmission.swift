import BuildCore

/// The JSON body of `POST /api/builds`: the download API's parameters as fields.
struct BuildSubmission: Decodable {
    var os: String?
    var arch: String?
    var arm: String?
    var packages: [String]
    var version: String?
    var caddyVersion: String?
    var jobID: String?

    enum CodingKeys: String, CodingKey { case os, arch, arm, packages, p, version, caddyVersion = "caddy_version", jobID = "job_id" }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        os = try c.decodeIfPresent(String.self, forKey: .os)
        arch = try c.decodeIfPresent(String.self, forKey: .arch)
        if let number = try? c.decodeIfPresent(Int.self, forKey: .arm) {
            arm = String(number)
        } else {
            arm = try c.decodeIfPresent(String.self, forKey: .arm)
        }
        packages = try c.decodeIfPresent([String].self, forKey: .packages) ?? c.decodeIfPresent([String].self, forKey: .p) ?? []
        version = try c.decodeIfPresent(String.self, forKey: .version)
        caddyVersion = try c.decodeIfPresent(String.self, forKey: .caddyVersion)
        jobID = try c.decodeIfPresent(String.self, forKey: .jobID)
    }
}
