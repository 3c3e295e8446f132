extension AgentConfiguration {
    /// What each of proxagent's settings means, in README's order (the source of README's
    /// proxagent table and of `proxagent --help`).
    static let docs: [SettingDoc] = [
        SettingDoc(
            "--hub-url", default: #"required"#,
            help: #"The hub's URL, where artifacts are pushed. Required."#,
            details: #"The hub the agent pushes binaries to, `http(s)://host:port`. Name one hub directly, not a load balancer: other hubs fetch the binary from this address."#
        ),
        SettingDoc(
            "--push-token", default: #"required"#,
            help: #"The hub's --push-token. Required."#,
            details: #"The hub's `--push-token`."#
        ),
        SettingDoc(
            "--hub-ca", default: #"none: the system's roots"#,
            help: #"A CA certificate (PEM) to trust for an https --hub-url, beside the system's roots."#,
            details: #"A CA certificate, PEM (the file may hold several), that the agent trusts for an `https://` `--hub-url` beside the system's roots (`/etc/ssl/certs` on Debian): for a hub whose certificate comes from your own CA. Read once, at start: a file that is not a readable PEM certificate stops proxagent (`cannot start: --hub-ca/PB_HUB_CA …`, exit status 1). Only the agent's pushes use it: hubs copying binaries from one another trust the system's roots only (see [docs/operations.md](docs/operations.md#https))."#
        ),
        SettingDoc(
            "--redis-host", default: #"`localhost`"#,
            help: #"Redis host."#,
            details: #"The Redis server the hubs use."#
        ),
        SettingDoc(
            "--redis-port", default: #"`6379`"#,
            help: #"Redis port."#,
            details: #"Its port (1–65535)."#
        ),
        SettingDoc(
            "--redis-username", default: #"none (Redis's default user)"#,
            help: #"Redis ACL user."#,
            details: #"A Redis ACL user. Needs `--redis-password`."#
        ),
        SettingDoc(
            "--redis-password", default: #"none"#,
            help: #"Redis password."#,
            details: #"The password. Wrong credentials stop proxagent at start (exit status 1)."#
        ),
        SettingDoc(
            "--simultaneous-jobs", default: #"`2`"#,
            help: #"Builds run at once."#,
            details: #"Builds run at once (1–256): the agent never takes more jobs than it has free slots."#
        ),
        SettingDoc(
            "--go", default: #"`go` (on `PATH`)"#,
            help: #"A local go command; repeat for several, the first is the default."#,
            details: #"A local go command; repeatable (or comma-separated in `PB_GO`), the first is the default. Each is asked `go env GOVERSION` once at start (one that is not a go command stops proxagent, exit status 1). The agent advertises these toolchains to the hubs and takes the jobs planned for any of them."#
        ),
        SettingDoc(
            "--toolchain-download", default: #"`true`"#,
            help: #"Download the Go toolchain a job needs through GOPROXY: true or false."#,
            details: #"Download a job's toolchain through `--goproxy` when it is not local, once per version, into `<work-dir>/go/mod`; the agent then takes jobs of every toolchain. It needs a local go 1.21 or newer: without one the agent does not download. `false`: only jobs of its local toolchains."#
        ),
        SettingDoc(
            "--goproxy", default: #"`$GOPROXY`, else `https://proxy.golang.org,direct`"#,
            help: #"GOPROXY list for builds."#,
            details: #"GOPROXY list handed to the go command; it must contain at least one `file://`, `http://` or `https://` proxy."#
        ),
        SettingDoc(
            "--work-dir", default: #"`./agent-data`"#,
            help: #"Go module and build caches, build directories."#,
            details: #"Go module and build caches (`go/mod`, with the downloaded toolchains; `go/cache`, `go/gopath`) and build directories (`builds/`, emptied at start)."#
        ),
        SettingDoc(
            "--build-timeout", default: #"`600s`"#,
            help: #"Time limit per build."#,
            details: #"Time limit for one build, as for proxhub. At least 1 s."#
        ),
        SettingDoc(
            "--build-memory", default: #"`3GiB`"#,
            help: #"Memory one build may use: 3GiB, 512MiB; 0 for none."#,
            details: #"Memory one build may use, as for proxhub (at least 64 MiB; `0` or `off`: no limit); over it the build fails with 422 `the build used more than … of memory (--build-memory) …`."#
        ),
        SettingDoc(
            "--build-memory-fence", default: #"`automatic`"#,
            help: #"How: automatic (a cgroup if possible, else an rlimit), cgroup, rlimit."#,
            details: #"`automatic`, `cgroup` or `rlimit`, as for proxhub: a cgroup of the build's own when proxagent may make one (run it under systemd with `Delegate=yes`), else `RLIMIT_DATA` through `prlimit`. With `cgroup`, an agent that cannot make one does not start (exit status 1)."#
        ),
        SettingDoc(
            "--build-cpus", default: #"`0`: all CPUs"#,
            help: #"CPUs one build uses (go build -p, GOMAXPROCS); 0 for all."#,
            details: #"CPUs one build uses (`go build -p N`, `GOMAXPROCS`), 0–4096. With `--simultaneous-jobs` builds at once, `--simultaneous-jobs` × this is what the agent's builds use together."#
        ),
        SettingDoc(
            "--build-disk", default: #"`4GiB`"#,
            help: #"Bytes one build's work directory may hold; 0 for none."#,
            details: #"Bytes one build's directory under `<work-dir>/builds` may hold, as for proxhub (at least 16 MiB; `0` or `off`: no limit)."#
        ),
        SettingDoc(
            "--go-cache-max-size", default: #"`20GB`"#,
            help: #"Bound of the Go build cache and of the module cache, each; 0 for none."#,
            details: #"Bound of `<work-dir>/go/cache` and of `<work-dir>/go/mod` (downloaded toolchains included), each, kept as for proxhub (at least 1 MiB; `0` or `off`: no bound)."#
        ),
        SettingDoc(
            "--max-attempts", default: #"`3`"#,
            help: #"Starts of a build whose agents stop responding before it fails."#,
            details: #"Starts of one build (1–100): a build started this many times whose agents each stopped responding before it finished is failed instead of started again."#
        ),
        SettingDoc(
            "--job-lease", default: #"`30s`"#,
            help: #"A job whose agent has not renewed it for this long is taken over."#,
            details: #"A running build whose agent has not renewed its lease for this long is taken over by another agent. Renewed every third of it. At least 1 s; give all agents the same value."#
        ),
        SettingDoc(
            "--shutdown-timeout", default: #"`60s`"#,
            help: #"On SIGTERM, time running builds get before they are handed back."#,
            details: #"On SIGTERM or SIGINT, how long running builds may go on before they are handed back to the queue."#
        ),
        SettingDoc(
            "--agent-name", default: #"`<host>-<pid>`"#,
            help: #"This agent's name in build records."#,
            details: #"The agent's name in build records (`worker`) and in Redis: 1–64 letters, digits, `-`, `_` or `.`. Must be unique among running agents."#
        ),
        SettingDoc(
            "--metrics-port", default: #"off"#,
            help: #"Serve Prometheus metrics at /metrics on this port."#,
            details: #"Serve this agent's Prometheus metrics at `http://<--metrics-host>:<port>/metrics`: builds by outcome (`prox_builds_total`), their durations (`prox_build_duration_seconds`), busy slots (`prox_build_slots_busy`), the jobs it completed (`prox_agent_jobs_completed_total`) and the toolchains it downloaded (see [docs/operations.md](docs/operations.md#metrics)). Off unless given."#
        ),
        SettingDoc(
            "--metrics-host", default: #"`127.0.0.1`"#,
            help: #"The address the metrics server listens on."#,
            details: #"The address `--metrics-port` listens on: `127.0.0.1` (default) for a scraper on the same host, `0.0.0.0` for one elsewhere."#
        ),
        SettingDoc(
            "--log-level", default: #"`info`"#,
            help: #"trace, debug, info, notice, warning, error."#,
            details: #"As for proxhub. Logs go to standard error."#
        ),
    ]
}
