extension HubConfiguration {
    /// What each of proxhub's settings means, in README's order (the source of README's
    /// proxhub table and of `proxhub --help`).
    static let docs: [SettingDoc] = [
        SettingDoc(
            "--webserver-host", default: #"`0.0.0.0`"#,
            help: #"Address to listen on."#,
            details: #"Address to listen on."#
        ),
        SettingDoc(
            "--webserver-port", default: #"`8080`"#,
            help: #"Port to listen on."#,
            details: #"Port to listen on (0–65535)."#
        ),
        SettingDoc(
            "--binary-path", default: #"`./data`"#,
            help: #"Data directory: artifact cache, index, Go caches."#,
            details: #"Data directory: artifact cache, its index, Go caches, build directories (see below)."#
        ),
        SettingDoc(
            "--package-endpoint", default: #"`https://caddyserver.com/api/packages`"#,
            help: #"Package catalog URL, http(s):// or file://."#,
            details: #"Package catalog, `http(s)://` or `file://`, in the shape of caddyserver.com's `/api/packages`. Only its packages are built (see `--allow-unlisted`)."#
        ),
        SettingDoc(
            "--goproxy", default: #"`$GOPROXY`, else `https://proxy.golang.org,direct`"#,
            help: #"GOPROXY list for resolving and building."#,
            details: #"GOPROXY list used to resolve versions and handed to the go command. It must contain at least one `file://`, `http://` or `https://` proxy."#
        ),
        SettingDoc(
            "--go", default: #"`go` (on `PATH`)"#,
            help: #"A local go command; repeat for several, the first is the default."#,
            details: #"A local go command. Give `--go` several times (or several paths, comma-separated, in `PB_GO`) to offer several local toolchains; the first is the default. Each is asked `go env GOVERSION` once at start; one that is not a go command stops proxhub (`… is not a usable go command …`, exit status 1). Each build uses the toolchain the go.mod files of its Caddy version, plugins and their dependencies need, chosen from these and the downloadable ones; the chosen version is part of its cache key (see [docs/operations.md](docs/operations.md#toolchains)). In hub mode the go commands are asked only when `--go-version` is not given, and the first is what the hub plans with while no agent is live."#
        ),
        SettingDoc(
            "--toolchain-download", default: #"`true`"#,
            help: #"Download the Go toolchain a build needs through GOPROXY: true or false."#,
            details: #"Let builds use the release versions of the module `golang.org/toolchain` that the GOPROXY lists for this host (`v0.0.1-go1.23.5.linux-amd64`): the go command downloads one into `go/mod` the first time a build needs it (this needs a local go 1.21 or newer). `false`: only the `--go` toolchains. In hub mode it applies only while no agent is live; each agent has its own."#
        ),
        SettingDoc(
            "--simultaneous-jobs", default: #"`2`"#,
            help: #"Builds run at once."#,
            details: #"Builds run at once (1–256); more wait first in, first out. Standalone only (in hub mode each agent has its own)."#
        ),
        SettingDoc(
            "--build-timeout", default: #"`600s`"#,
            help: #"Time limit per build: 600, 90s, 10m."#,
            details: #"Time limit for one whole build: `600`, `90s`, `10m`, `1h`, `500ms`. At least 1 s. Standalone only (in hub mode each agent has its own)."#
        ),
        SettingDoc(
            "--build-memory", default: #"`3GiB`"#,
            help: #"Memory one build may use: 3GiB, 512MiB; 0 for none."#,
            details: #"Memory one build may use: bytes or `512MiB`, `3GiB`, at least 64 MiB; `0` or `off`: no limit. With a cgroup it bounds all the build's go processes together, with the rlimit each of them (see `--build-memory-fence`); each go process also gets `GOMEMLIMIT`, three quarters of it divided by `--build-cpus` (by 1 with all CPUs). A build over it is stopped: 422 `the build used more than 3 GiB of memory (--build-memory) and was stopped during go build …`. Standalone only (in hub mode each agent has its own)."#
        ),
        SettingDoc(
            "--build-memory-fence", default: #"`automatic`"#,
            help: #"How: automatic (a cgroup if possible, else an rlimit), cgroup, rlimit."#,
            details: #"How `--build-memory` is enforced: `automatic` (a cgroup of the build's own, v2 or v1, when proxhub may make one, else `RLIMIT_DATA` on each go process through util-linux's `prlimit`), `cgroup` (a cgroup, or no start: with a memory limit, proxhub makes and removes a probe cgroup at start, and when it cannot it stops with `cannot start: --build-memory-fence cgroup: cannot make a cgroup for builds here (…)`, exit status 1), `rlimit`. The `limits:` line of each build's log says which is in use. See [docs/operations.md](docs/operations.md#build-resources). Standalone only."#
        ),
        SettingDoc(
            "--build-cpus", default: #"`0`: all CPUs"#,
            help: #"CPUs one build uses (go build -p, GOMAXPROCS); 0 for all."#,
            details: #"CPUs one build uses (0–4096): packages compiled at once (`go build -p N`) and `GOMAXPROCS` of every go process of the build. It bounds parallelism; it is not a CPU quota. Standalone only."#
        ),
        SettingDoc(
            "--build-disk", default: #"`4GiB`"#,
            help: #"Bytes one build's work directory may hold; 0 for none."#,
            details: #"Bytes one build's work directory may hold (its module, the go command's temporary files, which `GOTMPDIR` keeps there, and the binary; not the shared Go caches): at least 16 MiB; `0` or `off`: no limit. Measured every 500 ms while a go command runs and after each one; a build over it is stopped: 422 `the build wrote more than 4 GiB to its work directory (--build-disk) and was stopped during …`. Standalone only."#
        ),
        SettingDoc(
            "--go-cache-max-size", default: #"`20GB`"#,
            help: #"Bound of the Go build cache and of the module cache, each; 0 for none."#,
            details: #"Bound of the Go build cache (`go/cache`) and of the module cache (`go/mod`, downloaded toolchains included), each: at least 1 MiB; `0` or `off`: no bound. After a build, at most every 10 minutes, a build cache over it loses its least recently used files down to three quarters of it, and a module cache over it is removed whole (`go clean -modcache`) as soon as no build runs. Standalone only."#
        ),
        SettingDoc(
            "--cache-max-size", default: #"`10GB`"#,
            help: #"Artifact cache quota: 500MB, 10GB, 1GiB."#,
            details: #"Quota for artifact files: bytes or `500MB`, `10GB`, `1GiB` (KB/MB/GB/TB are powers of 1000, KiB/MiB/GiB/TiB of 1024). At least 1 MB."#
        ),
        SettingDoc(
            "--catalog-refresh", default: #"`1h`"#,
            help: #"Package catalog refresh interval."#,
            details: #"How often the package catalog is fetched again."#
        ),
        SettingDoc(
            "--resolve-ttl", default: #"`5m`"#,
            help: #"How long resolved versions are reused."#,
            details: #"How long a resolved version (e.g. "latest release of X") is reused."#
        ),
        SettingDoc(
            "--sse-heartbeat", default: #"`15s`"#,
            help: #"Interval of heartbeat comments on idle log streams."#,
            details: #"Interval of the `: heartbeat` comments on log streams (`/api/builds/{id}/logs`). At least 100 ms."#
        ),
        SettingDoc(
            "--log-level", default: #"`info`"#,
            help: #"trace, debug, info, notice, warning, error."#,
            details: #"`trace`, `debug`, `info`, `notice`, `warning`, `error` or `critical`. Logs go to standard error."#
        ),
        SettingDoc(
            "--allow-unlisted", default: #"off"#,
            help: #"Build packages that are not in the catalog."#,
            details: #"Build packages that are not in the catalog."#
        ),
        SettingDoc(
            "--allow-replacements", default: #"off"#,
            help: #"Accept path=module@version replacements."#,
            details: #"Accept `p=path=other/module@v1.2.3` (module replacements; filesystem paths are always refused)."#
        ),
        SettingDoc(
            "--verify-on-read", default: #"off"#,
            help: #"Check each artifact's SHA-256 before sending it."#,
            details: #"Re-hash each artifact (SHA-256) before sending it."#
        ),
        SettingDoc(
            "--hub", default: #"off"#,
            help: #"Hub mode: serve and queue builds on Redis for proxagents; build nothing here."#,
            details: #"Hub mode: serve the API and the cache, queue builds in Redis for `proxagent`s, build nothing here."#
        ),
        SettingDoc(
            "--agent", default: #"off"#,
            help: #"prox-builder's agent mode: use the proxagent command instead."#,
            details: #"prox-builder's agent mode: refused at start (exit status 64) with a pointer to `proxagent`."#
        ),
        SettingDoc(
            "--redis-host", default: #"`localhost`"#,
            help: #"Hub mode: Redis host."#,
            details: #"Hub mode: the Redis server (one server, not Redis Cluster)."#
        ),
        SettingDoc(
            "--redis-port", default: #"`6379`"#,
            help: #"Hub mode: Redis port."#,
            details: #"Hub mode: its port (1–65535)."#
        ),
        SettingDoc(
            "--redis-username", default: #"none (Redis's default user)"#,
            help: #"Hub mode: Redis ACL user."#,
            details: #"Hub mode: a Redis ACL user (Redis 6 or newer). Needs `--redis-password`."#
        ),
        SettingDoc(
            "--redis-password", default: #"none"#,
            help: #"Hub mode: Redis password."#,
            details: #"Hub mode: the password, sent with `AUTH` on every connection. Wrong credentials stop proxhub at start (exit status 1)."#
        ),
        SettingDoc(
            "--push-token", default: #"none"#,
            help: #"Token agents must send to push artifacts. Without it, pushes are refused."#,
            details: #"The secret agents send with each binary they push, and hubs with each binary they fetch from one another (`/api/internal/…`, see docs/api.md). Without it every push is refused, so in hub mode no build can finish (a warning is logged at start)."#
        ),
        SettingDoc(
            "--go-version", default: #"none: chosen per build"#,
            help: #"One Go toolchain for every build, e.g. go1.23.5."#,
            details: #"Pins one toolchain for every build, as `go env GOVERSION` prints it (`go1.23.5`), in both modes: a local one, or downloaded. A build whose go.mod files need a newer Go fails (422 `toolchainUnavailable`). Standalone: with `--toolchain-download=false` it must be one of the `--go` toolchains, or proxhub does not start (exit status 1). Hub mode: without it the hub plans from its agents' toolchains; a hub with neither it nor a runnable `--go` plans from its live agents only (and says so in its log at start)."#
        ),
        SettingDoc(
            "--max-connections", default: #"`4096`"#,
            help: #"Open connections at once; more get 503."#,
            details: #"Open connections at once (1–1,000,000). A connection over it gets 503 with `Retry-After: 5` and is closed (over TLS it is closed at once, with no handshake and no answer). proxhub raises its open-file soft limit to the hard limit at start: keep the hard limit above this (see [docs/operations.md](docs/operations.md#connections-and-timeouts))."#
        ),
        SettingDoc(
            "--header-timeout", default: #"`10s`"#,
            help: #"Time for a request's line and headers to arrive."#,
            details: #"A request's line and headers must arrive within this time of their first byte (else 408 and the connection is closed); a new connection that sends nothing for this long is closed (over TLS the handshake counts: it must be done and a request begun within this time). At least 100 ms."#
        ),
        SettingDoc(
            "--idle-timeout", default: #"`60s`"#,
            help: #"Idle keep-alive connections are closed after this."#,
            details: #"A keep-alive connection with no request in progress is closed after this long. At least 100 ms."#
        ),
        SettingDoc(
            "--body-timeout", default: #"`30s`"#,
            help: #"A request body silent this long gets 408."#,
            details: #"A request body that sends nothing for this long gets 408 and the connection is closed. At least 100 ms."#
        ),
        SettingDoc(
            "--max-queued-builds", default: #"`50`"#,
            help: #"Builds waiting for a slot or agent; past it new builds get 503 (0: no bound)."#,
            details: #"Builds waiting for a slot (standalone) or an agent (hub mode, counted across all hubs); past it a new build gets 503 with `Retry-After: 30`. 0–1,000,000; `0`: no bound. Cache hits and joins of a build in flight are never refused."#
        ),
        SettingDoc(
            "--client-build-rate", default: #"`30/h`"#,
            help: #"New builds per client: 30/h, 5/m (0: no limit)."#,
            details: #"New builds one client may start per period, counted over the last period: `30/h`, `5/m`, `1/s` (also `/hour`, `/min`, `/sec`); a bare number counts per hour; `0` or `off`: no limit. Over it: 429 with `Retry-After`."#
        ),
        SettingDoc(
            "--client-concurrent-builds", default: #"`3`"#,
            help: #"Builds one client may have queued or running (0: no limit)."#,
            details: #"Builds one client may have queued or running at once (0–100,000; `0`: no limit). Over it: 429 with `Retry-After: 30`."#
        ),
        SettingDoc(
            "--client-request-rate", default: #"`600/m`"#,
            help: #"Requests per client, hits included: 600/m (0: no limit)."#,
            details: #"Requests one client may send to `/api/…` and `/ws` per fixed window, cache hits included (`/api/internal/…`, `/healthz`, the web UI's files and `/api/session` are not counted); same syntax as `--client-build-rate`, a bare number counts per minute. Over it: 429 with `Retry-After`."#
        ),
        SettingDoc(
            "--trusted-proxies", default: #"none"#,
            help: #"Proxies whose X-Forwarded-For names the client: 10.0.0.0/8,127.0.0.1."#,
            details: #"Reverse proxies, as addresses and CIDR ranges separated by commas (`127.0.0.1,10.0.0.0/8,fd00::/8`). A request from one of them is attributed to the address its `X-Forwarded-For` names, read from the right. Without it `X-Forwarded-For` is ignored and the client is the peer address."#
        ),
        SettingDoc(
            "--pull-token", default: #"none: the API is open"#,
            help: #"Makes the server private: API requests need this token; repeat for several."#,
            details: #"Makes the server private: `/api/…` and `/ws` need one of these tokens (`Authorization: Bearer <token>`, or basic auth with the token as password: `curl -u :TOKEN`). Repeat the flag for several (comma-separated in `PB_PULL_TOKEN`, which replaces the flags). Each at least 16 printable ASCII characters, no spaces or commas (`openssl rand -hex 24`)."#
        ),
        SettingDoc(
            "--admin-token", default: #"none: no admin API"#,
            help: #"Token of the admin API under /api/admin/. Without it there is no admin API."#,
            details: #"The token of the admin API under `/api/admin/` (cache listing, pin, remove, prune, cancel a build); it also opens the rest of the API. One token, at least 16 printable ASCII characters, not one of the pull tokens (else exit status 64)."#
        ),
        SettingDoc(
            "--tls-cert", default: #"none: plain HTTP"#,
            help: #"Serve https: the certificate chain, PEM; reloaded on SIGHUP. Needs --tls-key."#,
            details: #"Serve https on `--webserver-port` (and nothing on plain HTTP): the certificate chain, PEM, the server's certificate first, then its intermediates (a `fullchain.pem`). Needs `--tls-key`: give both or neither (else exit status 64). TLS 1.2 or newer; ALPN offers `http/1.1` only. A file that cannot be read as PEM, or a certificate that does not match the key, stops proxhub at start (`cannot start: … --tls-cert …`, exit status 1). Read again on SIGHUP: new connections get the new certificate, open ones keep theirs, and a reload that fails is logged and keeps the certificate in use (see [docs/operations.md](docs/operations.md#https))."#
        ),
        SettingDoc(
            "--tls-key", default: #"none"#,
            help: #"The private key of --tls-cert, PEM."#,
            details: #"The private key of `--tls-cert`, PEM, without a passphrase. Read with the certificate, at start and on SIGHUP."#
        ),
        SettingDoc(
            "--signing-key", default: #"`<--binary-path>/signing-key.pem`, made on first start"#,
            help: #"The Ed25519 key provenance and binaries are signed with (PKCS#8 PEM, mode 0600)."#,
            details: #"The Ed25519 private key every artifact's provenance (a DSSE envelope) and minisign signature are made with, PKCS#8 PEM (`openssl genpkey -algorithm ed25519` makes one). When the file does not exist it is made, mode 0600. A key that group or others may read, or a file that is not an Ed25519 key, stops proxhub at start (exit status 1). Only hubs hold it: agents push, the hub checks the digest and signs. Hubs serving one address (behind one load balancer) should share the key, so that everything they serve verifies with one published key. Its public key is at `GET /api/signing-key` (see [docs/verifying.md](docs/verifying.md))."#
        ),
        SettingDoc(
            "--verify-rebuilds", default: #"0: none"#,
            help: #"The share of new artifacts built again from scratch to prove them reproducible (0 to 1)."#,
            details: #"The share of new artifacts (0 to 1; `1` is every one) that proxhub builds a second time, one at a time at low priority, in a new directory with empty Go caches, comparing the SHA-256. The result is kept with the artifact's provenance (`GET /api/artifacts/{key}`: `reproduction`, and the `X-Prox-Reproduced` header of its provenance: `pending`, `true`, `false`, `failed`, or `unchecked` when no rebuild was made); a mismatch is logged as an error with both digests. Rebuilds run beside user builds (niced as they are) and do not count against `--simultaneous-jobs`; one still pending when proxhub stops is marked `failed` at the next start. In hub mode the hub rebuilds what agents pushed, itself (another host than the agent, with cold caches): it needs a go command of its own (`--go`), or there are no rebuilds (a notice at start says so). A value outside 0 to 1 is exit status 64."#
        ),
        SettingDoc(
            "--signing-public-key", default: #"none"#,
            help: #"The public key of an earlier signing key, still published (repeatable)."#,
            details: #"After a key rotation: the public key of an earlier `--signing-key` (PEM, or minisign's public key file), repeatable or comma-separated in the variable. It is published at `/api/signing-key` beside the current one, so what it signed stays verifiable; nothing new is signed with it."#
        ),
        SettingDoc(
            "--storage", default: #"`local`"#,
            help: #"Where artifacts live: local, or s3://BUCKET[/PREFIX] shared by hubs."#,
            details: #"Where artifacts live. `local`: this hub's disk (`--binary-path`), bounded by `--cache-max-size`. `s3://BUCKET` or `s3://BUCKET/PREFIX`: an S3-compatible bucket that several hubs may share; the local disk becomes a read-through cache in front of it, still bounded by `--cache-max-size` (evicting there keeps the bucket's copy). Binaries are stored once under `blobs/sha256/<digest>`, beside `keys/<cache key>.json` and `provenance/<cache key>.json`; a hub with an empty disk serves everything the bucket holds. Credentials come from the first source set, in the order of AWS's SDKs: `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` (and `AWS_SESSION_TOKEN`); a web identity token (`AWS_WEB_IDENTITY_TOKEN_FILE` with `AWS_ROLE_ARN`, exchanged at STS); the shared credentials file (`AWS_SHARED_CREDENTIALS_FILE`, `AWS_PROFILE`); a container endpoint (`AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` or `…_FULL_URI`); else the EC2 instance's role (IMDSv2). Temporary ones are refreshed before they expire; without any proxhub does not start (exit status 1). While the bucket cannot be reached, hits on the local disk are served and other requests get 503. See [docs/operations.md](docs/operations.md#s3-compatible-storage)."#
        ),
        SettingDoc(
            "--s3-endpoint", default: #"AWS's `https://s3.<region>.amazonaws.com`"#,
            help: #"The S3-compatible server, http(s)://HOST[:PORT] (MinIO, Garage, Ceph RGW, R2)."#,
            details: #"The S3-compatible server for `--storage s3://…`: `http(s)://HOST[:PORT]`, no path. Requests use path-style addressing (`<endpoint>/<bucket>/<key>`), which MinIO, Garage, Ceph RGW, Cloudflare R2 and AWS accept."#
        ),
        SettingDoc(
            "--s3-region", default: #"`us-east-1`"#,
            help: #"The region requests are signed for (R2: auto)."#,
            details: #"The region requests are signed for (AWS Signature Version 4): the bucket's region on AWS, `auto` on Cloudflare R2, usually `us-east-1` on MinIO and Garage."#
        ),
        SettingDoc(
            "--download-redirect", default: #"`off`"#,
            help: #"Cache hits redirect to the bucket: off, presigned, or a CDN base URL."#,
            details: #"How a cache hit on `/api/download` is answered when artifacts live in a bucket. `off`: the hub sends the bytes. `presigned`: `302 Found` to a presigned URL of the object, valid for `--download-redirect-ttl`, which names the file as a direct download would. A base URL (`https://cdn.example.com/prox`): `302` to `<base>/blobs/sha256/<digest>`, for a CDN or public bucket in front of the `--storage` prefix. The redirect keeps the `ETag`, `Repr-Digest` and `X-Prox-*` headers; builds that just finished, and artifacts whose upload is still being retried, are sent by the hub. Needs `--storage s3://…`."#
        ),
        SettingDoc(
            "--warm-top", default: #"`0`: off"#,
            help: #"When a new Caddy release appears, rebuild the N most downloaded package sets for it."#,
            details: #"Cache warming: every `--warm-interval` proxhub asks the module proxy for the newest Caddy release; when it is new, the N package sets (each with its platform) downloaded most in the last `--warm-window` are built for it, one at a time, so that users asking for them after the release get a hit. Warm builds are the server's own: standalone, they wait until no user's build is waiting for a slot; in hub mode they are queued for agents like other builds. The release warmed for is remembered in the cache index across restarts; on a new index the first check only notes the release (nothing is warmed for a release that was already out). 0–1000. See [docs/operations.md](docs/operations.md#cache-warming)."#
        ),
        SettingDoc(
            "--warm-window", default: #"`168h` (7 days)"#,
            help: #"How far back downloads count for --warm-top."#,
            details: #"How far back downloads count when `--warm-top` picks the sets to warm (downloads are counted per UTC day): at least `1h`."#
        ),
        SettingDoc(
            "--warm-interval", default: #"`10m`"#,
            help: #"How often --warm-top looks for a new Caddy release."#,
            details: #"How often `--warm-top` asks for the newest Caddy release. The answer is cached for `--resolve-ttl`, so a release is seen at most `--warm-interval` plus `--resolve-ttl` after it is published."#
        ),
        SettingDoc(
            "--download-redirect-ttl", default: #"`1h`"#,
            help: #"How long a presigned redirect stays valid (1s to 7 days)."#,
            details: #"How long a presigned URL from `--download-redirect presigned` stays valid: 1 s to 7 days (S3's limit)."#
        ),
    ]
}
