#!/usr/bin/env python3
"""Write the fixture module proxy plus one bench-only plugin with a large embedded blob.

Usage: python3 bench/make-bench-proxy.py OUTDIR [--blob-mib N]

Runs scripts/make-fixture-proxy.py OUTDIR (OUTDIR/proxy, OUTDIR/packages.json), then adds
the module github.com/proxbench/bigblob v1.0.0: a Caddy plugin that embeds N MiB
(default 48) of deterministic pseudo-random bytes with go:embed, so a build of it is an
artifact of about N + 2 MB. The package is appended to OUTDIR/packages.json. Benchmarks
only: nothing in the project's tests uses it. Standard library only.
"""

import argparse
import importlib.util
import json
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("fixture", os.path.join(HERE, "..", "scripts", "make-fixture-proxy.py"))
fixture = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fixture)

BIGBLOB = "github.com/proxbench/bigblob"

BIGBLOB_GO = """\
// Package bigblob is a Prox benchmark plugin: it embeds a large blob so that a build is
// a large artifact.
package bigblob

import (
\t_ "embed"

\t"github.com/caddyserver/caddy/v2"
)

//go:embed blob.bin
var blob []byte

// Handler is a placeholder Caddy module.
type Handler struct {
\tID   string
\tSize int
}

func init() {
\tcaddy.RegisterModule(caddy.ModuleInfo{
\t\tID:  "http.handlers.bigblob",
\t\tNew: func() any { return &Handler{ID: "http.handlers.bigblob", Size: len(blob)} },
\t})
}
"""


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("outdir")
    parser.add_argument("--blob-mib", type=int, default=48)
    args = parser.parse_args()
    outdir = os.path.abspath(args.outdir)
    if fixture.main(["make-fixture-proxy.py", outdir]) != 0:
        return 1
    proxy_dir = os.path.join(outdir, "proxy")
    blob = random.Random(20261121).randbytes(args.blob_mib * 1024 * 1024)
    files = {
        "go.mod": fixture.go_mod(BIGBLOB, [(fixture.CADDY, fixture.PINNED_CADDY)]),
        "bigblob.go": BIGBLOB_GO,
        "blob.bin": blob,
    }
    fixture.write_module_version(proxy_dir, BIGBLOB, "v1.0.0", files)
    fixture.write_module_index(proxy_dir, BIGBLOB, ["v1.0.0"])
    packages_path = os.path.join(outdir, "packages.json")
    with open(packages_path) as f:
        packages = json.load(f)
    repo = "https://" + BIGBLOB
    packages["result"].append({
        "id": "00000000-0000-4000-8000-999999999999", "path": BIGBLOB,
        "published": "2024-01-01T00:00:00Z", "updated": "2024-06-01T00:00:00Z",
        "listed": True, "available": True, "downloads": 0, "repo": repo,
        "modules": [{"name": "http.handlers.bigblob", "docs": "Benchmark blob.", "package": BIGBLOB, "repo": repo}],
    })
    with open(packages_path, "w") as f:
        json.dump(packages, f, indent=2)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
