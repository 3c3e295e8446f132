#!/usr/bin/env python3
"""Write a deterministic Go module proxy of synthetic Caddy modules for tests.

Usage: python3 scripts/make-fixture-proxy.py [--go-versions] OUTDIR

Creates OUTDIR/proxy (usable as GOPROXY=file://OUTDIR/proxy) and
OUTDIR/packages.json (shaped like caddyserver.com /api/packages). Re-running
replaces both; output is byte-identical across runs (fixed timestamps).
Standard library only.

--go-versions adds the Caddy releases that need a particular Go (the toolchain tests):
v2.10.0, whose go.mod says `go 1.23.0` (so it is the latest release there), and v2.6.2
(`go 1.22`), whose standard modules import github.com/proxfixture/quicgo, a module that
refuses to compile with Go 1.23 or newer, as quic-go did with new Go releases; and the
plugin github.com/proxfixture/needsnew (go 1.21), whose dependency
github.com/proxfixture/newdep says `go 1.23.0`: only the dependency needs the newer Go.
"""

import io
import json
import os
import re
import shutil
import string
import sys
import zipfile

CADDY = "github.com/caddyserver/caddy/v2"
PINNED_CADDY = "v2.7.6"  # what every plugin requires; MVS keeps the caller's pin
FIXED_TIME = "2024-01-01T00:00:00Z"
ZIP_DATE = (2024, 1, 1, 0, 0, 0)


# --- Go sources -------------------------------------------------------------

def go_mod(path, requires=(), go="1.21"):
    text = f"module {path}\n\ngo {go}\n"
    if requires:
        text += "\nrequire (\n" + "".join(f"\t{p} {v}\n" for p, v in requires) + ")\n"
    return text


CADDY_GO = """\
// Package caddy is a tiny stand-in for Caddy's module registry (Prox test fixture).
package caddy

import (
	"fmt"
	"sort"
)

// ModuleInfo describes a registered module.
type ModuleInfo struct {
	ID  string
	New func() any
}

// modules is only written from init functions, which run sequentially.
var modules = map[string]ModuleInfo{}

// RegisterModule adds a module to the registry; duplicate IDs panic.
func RegisterModule(info ModuleInfo) {
	if _, ok := modules[info.ID]; ok {
		panic(fmt.Sprintf("module already registered: %s", info.ID))
	}
	modules[info.ID] = info
}

// Modules returns the sorted IDs of all registered modules.
func Modules() []string {
	ids := make([]string, 0, len(modules))
	for id := range modules {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}
"""

CMD_GO = """\
// Package caddycmd is the fixture's command line entry point.
package caddycmd

import (
	"fmt"
	"os"
	"runtime/debug"

	"github.com/caddyserver/caddy/v2"
)

const caddyModulePath = "github.com/caddyserver/caddy/v2"

// Main runs the command named by os.Args[1].
func Main() {
	if len(os.Args) < 2 {
		usage()
	}
	switch os.Args[1] {
	case "version":
		fmt.Println(version())
	case "list-modules":
		for _, id := range caddy.Modules() {
			fmt.Println(id)
		}
	case "build-info":
		if bi, ok := debug.ReadBuildInfo(); ok {
			for _, dep := range bi.Deps {
				fmt.Println(dep.Path, dep.Version)
			}
		}
	default:
		usage()
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: caddy <version|list-modules|build-info>")
	os.Exit(2)
}

// version reports the Caddy module version recorded in the build info.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	if bi.Main.Path == caddyModulePath {
		return formatModule(&bi.Main)
	}
	for _, dep := range bi.Deps {
		if dep.Path == caddyModulePath {
			return formatModule(dep)
		}
	}
	return "(unknown)"
}

func formatModule(m *debug.Module) string {
	out := m.Version
	if m.Sum != "" {
		out += " " + m.Sum
	}
	if m.Replace != nil {
		out += " => " + m.Replace.Path + " " + m.Replace.Version
	}
	return out
}
"""

# A Go file registering each ID in init(); used by modules/standard and the plugins.
REGISTER_GO = string.Template("""\
// Package $package registers Prox test fixture modules.
package $package

import (
$imports)

// Handler is a placeholder Caddy module.
type Handler struct {
	$id_col string
	$field string
}

func init() {
	for _, id := range []string{
$ids	} {
		id := id
		caddy.RegisterModule(caddy.ModuleInfo{
			ID:  id,
			New: func() any { return &Handler{ID: id, $field: $value} },
		})
	}
}
$extra""")


def register_go(package, ids, imports=(), field="Note", value='"fixture"', extra=""):
    all_imports = sorted(['"github.com/caddyserver/caddy/v2"', *imports])  # gofmt order
    return REGISTER_GO.substitute(
        package=package, field=field, value=value, extra=extra,
        id_col="ID".ljust(len(field)),  # gofmt alignment of the struct fields
        imports="".join(f"\t{i}\n" for i in all_imports),
        ids="".join(f'\t\t"{i}",\n' for i in ids))


def caddy_files(release_number, go="1.21", requires=(), extra_files=None):
    """The synthetic Caddy module; release_number makes each version's zip differ."""
    standard_ids = ["http.handlers.file_server", "http.handlers.reverse_proxy",
                    "http.handlers.static_response", "tls.issuance.acme"]
    files = {
        "go.mod": go_mod(CADDY, requires, go=go),
        "caddy.go": CADDY_GO,
        "cmd/main.go": CMD_GO,
        "modules/standard/standard.go": register_go(
            "standard", standard_ids, imports=['"fmt"'], field="Description",
            value='fmt.Sprintf("%s (%s)", id, fixtureRelease)'),
        "modules/standard/release.go": (
            "package standard\n\n"
            "// fixtureRelease distinguishes fixture releases; it is not the version.\n"
            f'const fixtureRelease = "fixture-release-{release_number}"\n'
        ),
    }
    files.update(extra_files or {})
    return files


QUICGO = "github.com/proxfixture/quicgo"
NEWDEP = "github.com/proxfixture/newdep"
NEEDSNEW = "github.com/proxfixture/needsnew"

# Like quic-go before it supported a new Go: a file built only by Go 1.23 and newer that
# does not compile, so the module builds with Go 1.22 and fails with any newer Go.
QUICGO_FILES = {
    "go.mod": go_mod(QUICGO),
    "quic.go": (
        "// Package quicgo stands in for quic-go in old Caddy releases (Prox test fixture).\n"
        "package quicgo\n\n"
        "// Version names the fixture.\n"
        'const Version = "quicgo-fixture"\n'
    ),
    "unsupported_go123.go": (
        "//go:build go1.23\n\n"
        "package quicgo\n\n"
        "// This release of quicgo does not support Go 1.23 or newer.\n"
        'var _ int = "quicgo v0.1.0 does not support Go 1.23 or newer"\n'
    ),
}

# Caddy releases tied to a Go version (--go-versions).
def go_version_modules():
    return [
        (CADDY, "v2.10.0", caddy_files(10, go="1.23.0")),
        (CADDY, "v2.6.2", caddy_files(0, go="1.22", requires=[(QUICGO, "v0.1.0")], extra_files={
            "modules/standard/quic.go": (
                "package standard\n\n"
                f'import "{QUICGO}"\n\n'
                "// quicVersion keeps the quicgo dependency compiled in.\n"
                "var quicVersion = quicgo.Version\n"
            ),
        })),
        (QUICGO, "v0.1.0", QUICGO_FILES),
        (NEWDEP, "v0.1.0", {
            "go.mod": go_mod(NEWDEP, go="1.23.0"),
            "newdep.go": (
                "// Package newdep is a library that needs Go 1.23 (Prox test fixture).\n"
                "package newdep\n\n"
                "// Name names the fixture.\n"
                'const Name = "newdep"\n'
            ),
        }),
        (NEEDSNEW, "v0.1.0",
         plugin_files(NEEDSNEW, "needsnew", ["http.handlers.needsnew"], requires=[(NEWDEP, "v0.1.0")],
                      imports=[f'"{NEWDEP}"'], field="Dep", value="newdep.Name")),
    ]


def plugin_files(path, package, ids, subdir="", requires=(), **kw):
    """A plugin module: go.mod plus one registering Go file (optionally in subdir)."""
    prefix = subdir + "/" if subdir else ""
    reqs = [(CADDY, PINNED_CADDY), *requires]
    return {"go.mod": go_mod(path, reqs), f"{prefix}{package}.go": register_go(package, ids, **kw)}


def helper_files():
    return {
        "go.mod": go_mod("github.com/proxfixture/helper"),
        "helper.go": (
            "// Package helper is a plain library used by the withdep fixture.\n"
            "package helper\n\n"
            "// Greeting returns a fixed greeting.\n"
            'func Greeting() string { return "hello from helper" }\n'
        ),
    }


def multi_files():
    files = plugin_files("github.com/proxfixture/multi", "handlers", ["http.handlers.multi"],
                         subdir="handlers")
    files["doc.go"] = "// Package multi only hosts the handlers subpackage.\npackage multi\n"
    return files


BROKEN_EXTRA = '\n// x is a deliberate compile error.\nvar x int = "this does not compile"\n'


def hungry_files():
    """A plugin whose compilation needs gigabytes of memory (about 2 GB with go 1.23), far
    more than the limits the tests of --build-memory set, garbage collector or not:
    tens of thousands of generated functions in one file. Not in packages.json; those
    tests build it with --allow-unlisted, and no test lets its compilation finish (a
    finished one would be in the shared Go build cache)."""
    files = plugin_files(HUNGRY, "hungry", ["http.handlers.hungry"])
    lines = ["package hungry", "", "// Generated: a large file, to make the compiler use a lot of memory.", ""]
    for i in range(21000):
        lines.append(f"func F{i}(x int) int {{")
        lines.extend(f"\tif x > {j} {{\n\t\tx = x*{j + 3} + {i}\n\t}}" for j in range(20))
        lines.append("\treturn x\n}\n")
    files["generated.go"] = "\n".join(lines)
    return files


HELLO = "github.com/proxfixture/hello"
HELLO_IDS = {
    "v0.1.0": ["http.handlers.hello"],
    "v0.2.0": ["http.handlers.hello", "http.handlers.hello_v2feature"],
    "v0.3.0-rc.1": ["http.handlers.hello"],
}
UPPER = "github.com/ProxFixture/UpperCase"
MAJORTWO = "github.com/proxfixture/majortwo/v2"
WITHDEP = "github.com/proxfixture/withdep"
BROKEN = "github.com/proxfixture/broken"
HUNGRY = "github.com/proxfixture/hungry"

# (module path, version, files)
MODULES = [
    *[(CADDY, v, caddy_files(n))
      for n, v in enumerate(["v2.7.6", "v2.8.0", "v2.8.4", "v2.9.0-beta.1"], start=1)],
    *[(HELLO, v, plugin_files(HELLO, "hello", ids, value=f'"{v}"')) for v, ids in HELLO_IDS.items()],
    (UPPER, "v1.0.0", plugin_files(UPPER, "uppercase", ["http.handlers.uppercase"])),
    *[(MAJORTWO, v, plugin_files(MAJORTWO, "majortwo", ["http.handlers.majortwo"], value=f'"{v}"'))
      for v in ["v2.0.0", "v2.1.0"]],
    ("github.com/proxfixture/helper", "v1.0.0", helper_files()),
    (WITHDEP, "v0.1.0",
     plugin_files(WITHDEP, "withdep", ["http.handlers.withdep"],
                  requires=[("github.com/proxfixture/helper", "v1.0.0")],
                  imports=['"github.com/proxfixture/helper"'],
                  field="Greeting", value="helper.Greeting()")),
    # v0.0.9 builds; v0.1.0 (latest) does not: the version a plan suggests instead.
    (BROKEN, "v0.0.9", plugin_files(BROKEN, "broken", ["http.handlers.broken"])),
    (BROKEN, "v0.1.0", plugin_files(BROKEN, "broken", ["http.handlers.broken"], extra=BROKEN_EXTRA)),
    ("github.com/proxfixture/multi", "v1.0.0", multi_files()),
    (HUNGRY, "v0.1.0", hungry_files()),
]

# Untagged commits: (module path, pseudo-version, files, branch names). As on
# proxy.golang.org, a pseudo-version is not in @v/list, and @v/<branch>.info names it.
HELLO_MASTER = "v0.2.1-0.20240102030405-abcdefabcdef"
REVISIONS = [
    (HELLO, HELLO_MASTER,
     plugin_files(HELLO, "hello", ["http.handlers.hello", "http.handlers.hello_master"], value='"master"'),
     ["master"]),
]

# (package path, module path, module IDs, downloads) for packages.json; helper is a library.
PACKAGES = [
    (HELLO, HELLO, ["http.handlers.hello"], 4200),
    (UPPER, UPPER, ["http.handlers.uppercase"], 310),
    (MAJORTWO, MAJORTWO, ["http.handlers.majortwo"], 1500),
    (WITHDEP, WITHDEP, ["http.handlers.withdep"], 77),
    (BROKEN, BROKEN, ["http.handlers.broken"], 3),
    ("github.com/proxfixture/multi/handlers", "github.com/proxfixture/multi",
     ["http.handlers.multi"], 960),
]


# --- Proxy layout -----------------------------------------------------------

def escape(s):
    """Go module proxy case escaping: 'A' -> '!a'."""
    return re.sub(r"[A-Z]", lambda m: "!" + m.group(0).lower(), s)


def semver_key(version):
    m = re.fullmatch(r"v(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?", version)
    if not m:
        raise ValueError(f"not a semantic version: {version}")
    major, minor, patch, pre = m.groups()
    pre_key = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split(".")) if pre else ()
    return (int(major), int(minor), int(patch), 0 if pre else 1, pre_key)


def info_json(version):
    return json.dumps({"Version": version, "Time": FIXED_TIME}, separators=(",", ":"))


def module_zip(path, version, files):
    """Zip bytes with every file under '<path>@<version>/' and fixed metadata."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name in sorted(files):
            entry = zipfile.ZipInfo(f"{path}@{version}/{name}", date_time=ZIP_DATE)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.create_system = 3  # unix, so the result is platform independent
            entry.external_attr = 0o644 << 16
            zf.writestr(entry, files[name])
    return buf.getvalue()


def write_file(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)


def write_module_version(proxy_dir, path, version, files):
    """Write <ver>.info, <ver>.mod and <ver>.zip for one module version."""
    vdir = os.path.join(proxy_dir, escape(path), "@v")
    base = os.path.join(vdir, escape(version))
    write_file(base + ".info", info_json(version))
    write_file(base + ".mod", files["go.mod"])
    write_file(base + ".zip", module_zip(path, version, files))


def write_module_index(proxy_dir, path, versions):
    """Write @v/list (all versions) and @latest (highest release, else highest)."""
    versions = sorted(versions, key=semver_key)
    releases = [v for v in versions if "-" not in v] or versions
    mdir = os.path.join(proxy_dir, escape(path))
    write_file(os.path.join(mdir, "@v", "list"), "".join(v + "\n" for v in versions))
    write_file(os.path.join(mdir, "@latest"), info_json(releases[-1]))


def packages_json():
    result = []
    for n, (pkg, mod, ids, downloads) in enumerate(PACKAGES, start=1):
        repo = "https://" + mod
        result.append({
            "id": f"00000000-0000-4000-8000-{n:012d}",
            "path": pkg,
            "published": "2024-01-01T00:00:00Z",
            "updated": "2024-06-01T00:00:00Z",
            "listed": True,
            "available": True,
            "downloads": downloads,
            "repo": repo,
            "modules": [{"name": i, "docs": f"Fixture module {i}.", "package": pkg, "repo": repo}
                        for i in ids],
        })
    return json.dumps({"status_code": 200, "result": result}, indent=2) + "\n"


def add_caddy_release(outdir, version):
    """Publish one more Caddy release in an existing proxy (a new release appearing)."""
    proxy_dir = os.path.join(outdir, "proxy")
    listing = os.path.join(proxy_dir, escape(CADDY), "@v", "list")
    with open(listing) as f:
        versions = [v for v in f.read().split() if v != version]
    write_module_version(proxy_dir, CADDY, version, caddy_files(9))
    write_module_index(proxy_dir, CADDY, versions + [version])
    print(proxy_dir)
    return 0


def main(argv):
    args = argv[1:]
    if len(args) == 3 and args[0] == "--add-caddy-release":
        return add_caddy_release(os.path.abspath(args[2]), args[1])
    go_versions = "--go-versions" in args
    args = [a for a in args if a != "--go-versions"]
    if len(args) != 1 or args[0].startswith("-"):
        print("usage: make-fixture-proxy.py [--go-versions] OUTDIR\n"
              "       make-fixture-proxy.py --add-caddy-release VERSION OUTDIR", file=sys.stderr)
        return 2
    outdir = os.path.abspath(args[0])
    proxy_dir = os.path.join(outdir, "proxy")
    shutil.rmtree(proxy_dir, ignore_errors=True)

    versions_by_module = {}
    for path, version, files in MODULES + (go_version_modules() if go_versions else []):
        write_module_version(proxy_dir, path, version, files)
        versions_by_module.setdefault(path, []).append(version)
    for path, versions in versions_by_module.items():
        write_module_index(proxy_dir, path, versions)
    for path, version, files, branches in REVISIONS:
        write_module_version(proxy_dir, path, version, files)
        stamp = version.split("-")[-2].split(".")[-1]
        time = f"{stamp[0:4]}-{stamp[4:6]}-{stamp[6:8]}T{stamp[8:10]}:{stamp[10:12]}:{stamp[12:14]}Z"
        for branch in branches:
            write_file(os.path.join(proxy_dir, escape(path), "@v", escape(branch) + ".info"),
                       json.dumps({"Version": version, "Time": time}, separators=(",", ":")))

    write_file(os.path.join(outdir, "packages.json"), packages_json())
    print(proxy_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
