import Foundation

/// Prometheus's text format read by Prometheus's own Python client
/// (`prometheus_client.parser`, which scripts/setup-debian.sh installs in `.venv`): a
/// `/metrics` page that breaks the format's rules fails to parse here.
public enum PrometheusText {
    /// Every sample, keyed `name{label="value",…}` with labels sorted (`name` alone when
    /// it has none).
    public static func parse(_ text: String) throws -> [String: Double] {
        let directory = Fixture.temporaryDirectory("prox-metrics")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try text.write(toFile: directory + "/metrics.txt", atomically: true, encoding: .utf8)
        let script = """
            import json, sys
            from prometheus_client.parser import text_string_to_metric_families
            samples = {}
            for family in text_string_to_metric_families(open(sys.argv[1]).read()):
                for s in family.samples:
                    labels = ",".join(f'{k}="{v}"' for k, v in sorted(s.labels.items()))
                    samples[s.name + ("{" + labels + "}" if labels else "")] = s.value
            json.dump(samples, sys.stdout)
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [Fixture.python, "-c", script, directory + "/metrics.txt"]
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let problem = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0, let samples = try JSONSerialization.jsonObject(with: data) as? [String: Double] else {
            throw FixtureError(message: "prometheus_client could not parse the metrics: \(String(decoding: problem, as: UTF8.self))")
        }
        return samples
    }
}
