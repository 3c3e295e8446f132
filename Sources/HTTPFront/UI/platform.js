// Build targets: labels for the platform list, and the visitor's own platform when the
// browser reveals it.

const OS_NAMES = {
  linux: "Linux", darwin: "macOS", windows: "Windows", freebsd: "FreeBSD", openbsd: "OpenBSD",
  netbsd: "NetBSD", dragonfly: "DragonFly BSD", solaris: "Solaris", illumos: "illumos", aix: "AIX", plan9: "Plan 9",
};

const ARCH_NAMES = {
  amd64: "x86-64 (amd64)", arm64: "ARM64 (arm64)", "386": "x86 32-bit (386)", ppc64le: "POWER LE (ppc64le)",
  ppc64: "POWER (ppc64)", s390x: "IBM Z (s390x)", riscv64: "RISC-V 64 (riscv64)", mips: "MIPS (mips)",
  mipsle: "MIPS LE (mipsle)", mips64: "MIPS64 (mips64)", mips64le: "MIPS64 LE (mips64le)",
};

export function osName(os) {
  return OS_NAMES[os] || os;
}

/** "ARM v6 (arm, GOARM=6)", "x86-64 (amd64)". */
export function archLabel(target) {
  if (target.arch === "arm") return `ARM v${target.arm} (arm, GOARM=${target.arm})`;
  return ARCH_NAMES[target.arch] || target.arch;
}

/** The value a platform option carries: the API's `target` ("linux/arm/v6"). */
export function targetValue(target) {
  return target.target;
}

/** `{os, arch, arm}` from a target value ("linux/arm/v6" or "linux/amd64"); null if malformed. */
export function parseTarget(value) {
  const parts = String(value || "").split("/");
  if (parts.length < 2 || !parts[0] || !parts[1]) return null;
  const result = { os: parts[0], arch: parts[1], arm: null };
  if (parts[1] === "arm") {
    const match = /^v?([0-9])$/.exec(parts[2] || "7");
    if (!match) return null;
    result.arm = Number(match[1]);
  }
  return result;
}

/** The target value for `{os, arch, arm}` as the API spells it. */
export function formatTarget({ os, arch, arm }) {
  return arch === "arm" ? `${os}/arm/v${arm || 7}` : `${os}/${arch}`;
}

function fromNames(platform, architecture, bitness) {
  const p = (platform || "").toLowerCase();
  const os = p.includes("linux") || p.includes("android") ? "linux"
    : p.includes("mac") || p.includes("darwin") ? "darwin"
    : p.includes("win") ? "windows"
    : p.includes("freebsd") ? "freebsd"
    : p.includes("openbsd") ? "openbsd"
    : p.includes("netbsd") ? "netbsd"
    : null;
  if (!os) return null;
  const a = (architecture || "").toLowerCase();
  let arch = null;
  let arm = null;
  if (/x86_64|amd64|x64|win64|wow64|intel/.test(a)) arch = "amd64";
  else if (/aarch64|arm64|armv8/.test(a)) arch = "arm64";
  else if (/armv7/.test(a)) [arch, arm] = ["arm", 7];
  else if (/armv6/.test(a)) [arch, arm] = ["arm", 6];
  else if (/armv5/.test(a)) [arch, arm] = ["arm", 5];
  else if (a === "arm") [arch, arm] = bitness === "64" ? ["arm64", null] : ["arm", 7];
  else if (a === "x86") arch = bitness === "32" ? "386" : "amd64";
  else if (/i[3-6]86/.test(a)) arch = "386";
  if (!arch && os === "windows") arch = "amd64";
  if (!arch) return null;
  return { os, arch, arm };
}

/**
 * The visitor's platform, `{os, arch, arm, source}`, or null when the browser does not say.
 * User-Agent Client Hints first (Chromium, secure contexts), then navigator.platform and
 * the user agent string.
 */
export async function detect() {
  const hints = navigator.userAgentData;
  if (hints && typeof hints.getHighEntropyValues === "function") {
    try {
      const v = await hints.getHighEntropyValues(["architecture", "bitness", "platform"]);
      const found = fromNames(v.platform || hints.platform, v.architecture, v.bitness);
      if (found) return { ...found, source: "client hints" };
    } catch {
      // not revealed: fall through
    }
  }
  const platform = navigator.platform || "";
  const agent = navigator.userAgent || "";
  const found = fromNames(platform + " " + agent, platform + " " + agent, "");
  return found ? { ...found, source: "user agent" } : null;
}
