#!/usr/bin/env python3
"""Write a Go toolchain as the module golang.org/toolchain into a file-based module proxy.

Usage: python3 scripts/make-toolchain-module.py GOROOT PROXYDIR [--version goX.Y.Z] [--host GOOS-GOARCH]

The go command (1.21 and later) downloads a toolchain it lacks as the module
golang.org/toolchain@v0.0.1-<version>.<goos>-<goarch> through GOPROXY
(https://go.dev/doc/toolchain). This script makes that module from an installed Go tree
(for Prox's tests, a Debian golang-1.2x-go package such as /usr/lib/go-1.23), so a
GOPROXY=file://PROXYDIR lets an older go switch to it with no internet:

- files go under golang.org/toolchain@<module version>/ in the zip; symlinks are
  followed (Debian links src/ and friends into /usr/share);
- nested go.mod files are stored as _go.mod (a module zip may not contain them; the go
  command renames them back after the download: cmd/go/internal/toolchain);
- _test.go files, testdata directories and the test/, misc/ and api/ trees are left out:
  builds never read them, and they would double the size;
- entries are stored uncompressed: the zip is local, and writing it takes seconds instead
  of the minute or more that compression costs.

Writes @v/<module version>.info, .mod and .zip, and adds the version to @v/list.
--version defaults to the first line of GOROOT/VERSION; --host to this machine's.
Standard library only. Prints the zip's path.
"""

import argparse
import json
import os
import platform
import sys
import zipfile

MODULE = "golang.org/toolchain"
SKIPPED_TOP = {"test", "misc", "api", ".git"}
FIXED_TIME = "2024-01-01T00:00:00Z"
ZIP_DATE = (2024, 1, 1, 0, 0, 0)

ARCHES = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64", "i386": "386", "i686": "386"}


def host_target():
    goos = sys.platform if sys.platform != "linux2" else "linux"
    goos = {"darwin": "darwin"}.get(goos, goos)
    arch = ARCHES.get(platform.machine().lower())
    if arch is None:
        raise SystemExit(f"make-toolchain-module: unknown machine {platform.machine()!r}: pass --host GOOS-GOARCH")
    return f"{goos}-{arch}"


def files_of(goroot):
    """(relative path, absolute path) of every file the toolchain module holds, sorted."""
    out = []
    for dirpath, dirnames, filenames in os.walk(goroot, followlinks=True):
        rel_dir = os.path.relpath(dirpath, goroot)
        parts = [] if rel_dir == "." else rel_dir.split(os.sep)
        if not parts:
            dirnames[:] = [d for d in dirnames if d not in SKIPPED_TOP]
        dirnames[:] = sorted(d for d in dirnames if d != "testdata")
        for name in sorted(filenames):
            if name.endswith("_test.go"):
                continue
            absolute = os.path.join(dirpath, name)
            if not os.path.isfile(absolute):
                continue
            rel = "/".join(parts + [name])
            if name == "go.mod":
                rel = "/".join(parts + ["_go.mod"])
            out.append((rel, absolute))
    return sorted(out)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("goroot")
    parser.add_argument("proxydir")
    parser.add_argument("--version", help="goX.Y.Z (default: GOROOT/VERSION)")
    parser.add_argument("--host", help="GOOS-GOARCH (default: this machine)")
    args = parser.parse_args(argv[1:])

    goroot = os.path.realpath(args.goroot)
    if not os.path.isfile(os.path.join(goroot, "bin", "go")):
        raise SystemExit(f"make-toolchain-module: {goroot} has no bin/go: give a Go installation (e.g. /usr/lib/go-1.23)")
    version = args.version
    if version is None:
        with open(os.path.join(goroot, "VERSION"), encoding="utf-8") as f:
            version = f.readline().strip()
    if not version.startswith("go1.") or " " in version:
        raise SystemExit(f"make-toolchain-module: {version!r} is not a Go version such as go1.23.5")
    host = args.host or host_target()
    module_version = f"v0.0.1-{version}.{host}"

    vdir = os.path.join(args.proxydir, MODULE, "@v")
    os.makedirs(vdir, exist_ok=True)
    base = os.path.join(vdir, module_version)
    prefix = f"{MODULE}@{module_version}/"
    tmp = base + ".zip.tmp"
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for rel, absolute in files_of(goroot):
            entry = zipfile.ZipInfo(prefix + rel, date_time=ZIP_DATE)
            entry.create_system = 3
            mode = 0o755 if os.access(absolute, os.X_OK) else 0o644
            entry.external_attr = mode << 16
            with open(absolute, "rb") as f:
                zf.writestr(entry, f.read())
    os.replace(tmp, base + ".zip")
    with open(base + ".mod", "w", encoding="utf-8") as f:
        f.write(f"module {MODULE}\n")
    with open(base + ".info", "w", encoding="utf-8") as f:
        f.write(json.dumps({"Version": module_version, "Time": FIXED_TIME}, separators=(",", ":")))
    listing = os.path.join(vdir, "list")
    known = set()
    if os.path.exists(listing):
        with open(listing, encoding="utf-8") as f:
            known = {line.strip() for line in f if line.strip()}
    known.add(module_version)
    with open(listing, "w", encoding="utf-8") as f:
        f.write("".join(v + "\n" for v in sorted(known)))
    print(base + ".zip")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
