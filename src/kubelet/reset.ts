// Removing what a node left on the host: its containerd and shims, the containers in its runc
// root, mounts under its data dir (rootfs overlays, pod network namespaces, tmpfs volumes), the
// nat rules the CNI plugins added for its network, its bridge and cgroups; the data dir goes
// with everything in it, the local-path provisioner's volumes (<data>/storage, plain
// directories) included. `k8ts reset` runs it
// for the node of a data dir; test runtimes run it for theirs (also from a watchdog shell when
// the test process dies, which is why the core of it is a shell script).
import { execFileSync } from "node:child_process";

/**
 * Run as `sh -c SWEEP_SCRIPT sh DATA BRIDGE CGROUP NETWORK`: kills the run's containerd and shims
 * (found by the data dir in their command line), force-deletes the containers in its runc root,
 * unmounts what is mounted under the data dir (rootfs overlays, network namespaces), deletes
 * the nat rules naming the network and the per-pod chains they jump to, the bridge and the
 * cgroups, and removes the data dir. Idempotent.
 */
export const SWEEP_SCRIPT = `
DATA="$1"; BRIDGE="$2"; CG="$3"; NET="$4"
for p in /proc/[0-9]*; do
  case "$(tr '\\0' ' ' < "$p/cmdline" 2>/dev/null)" in
    *"$DATA/containerd/"*) kill -KILL "\${p#/proc/}" 2>/dev/null;;
  esac
done
RR="$DATA/containerd/state/runc/k8s.io"
if [ -d "$RR" ]; then
  for id in $(runc --root "$RR" list -q 2>/dev/null); do runc --root "$RR" delete -f "$id" >/dev/null 2>&1; done
fi
grep -F " $DATA/" /proc/self/mounts | awk '{print $2}' | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
if [ -n "$NET" ]; then
  R=$(iptables-save -t nat 2>/dev/null | grep '^-A ' | grep -F -- "$NET")
  if [ -n "$R" ]; then
    C=$(printf '%s\n' "$R" | grep -o -- '-j CNI-[^ ]*' | cut -c4- | grep -v '^CNI-HOSTPORT-' | sort -u)
    { echo '*nat'; printf '%s\n' "$R" | sed 's/^-A /-D /'; for c in $C; do echo "-F $c"; echo "-X $c"; done; echo COMMIT; } | iptables-restore --noflush 2>/dev/null
  fi
fi
[ -n "$BRIDGE" ] && ip link del "$BRIDGE" 2>/dev/null
if [ -n "$CG" ]; then
  for h in /sys/fs/cgroup/*/"$CG" /sys/fs/cgroup/"$CG"; do
    [ -d "$h" ] && find "$h" -depth -type d -exec rmdir {} \\; 2>/dev/null
  done
fi
rm -rf -- "$DATA"
exit 0
`;

/** Kills and removes everything a run left under `dataDir` (see SWEEP_SCRIPT); synchronous. */
export function sweepNode(dataDir: string, bridge = "", cgroupRoot = "", networkName = ""): void {
  execFileSync("sh", ["-c", SWEEP_SCRIPT, "sh", dataDir, bridge, cgroupRoot, networkName], { stdio: "ignore" });
}

export function natSave(): string {
  try {
    return execFileSync("iptables-save", ["-t", "nat"], { encoding: "utf8" });
  } catch {
    return "";
  }
}

const SHARED_PORTMAP_CHAINS = ["CNI-HOSTPORT-DNAT", "CNI-HOSTPORT-MASQ", "CNI-HOSTPORT-SETMARK"];

/**
 * Deletes nat rules that carry this network's name (left when a sandbox could not be removed)
 * and the per-pod chains they jump to; drops portmap's shared chains if this run created them
 * and no host port is mapped through them any more.
 */
export function cleanNetworkNat(networkName: string, sharedChainsExisted: boolean): void {
  const saved = natSave();
  const tag = `name: \\"${networkName}\\"`;
  const ours = saved.split("\n").filter((l) => l.startsWith("-A ") && l.includes(tag));
  const chains = new Set<string>();
  for (const l of ours) {
    const target = /-j (CNI-\S+)/.exec(l)?.[1];
    if (target && !SHARED_PORTMAP_CHAINS.includes(target)) chains.add(target);
  }
  const lines = ["*nat", ...ours.map((l) => `-D${l.slice(2)}`)];
  for (const c of chains) lines.push(`-F ${c}`, `-X ${c}`);
  const dnatLeft = saved.split("\n").some((l) => l.startsWith("-A CNI-HOSTPORT-DNAT ") && !l.includes(tag));
  if (!sharedChainsExisted && !dnatLeft && saved.includes(":CNI-HOSTPORT-DNAT ")) {
    for (const l of saved.split("\n")) if (/^-A (PREROUTING|OUTPUT|POSTROUTING) .*-j CNI-HOSTPORT-/.test(l)) lines.push(`-D${l.slice(2)}`);
    for (const c of SHARED_PORTMAP_CHAINS) lines.push(`-F ${c}`);
    for (const c of SHARED_PORTMAP_CHAINS) lines.push(`-X ${c}`);
  }
  if (lines.length === 1) return;
  lines.push("COMMIT", "");
  try {
    execFileSync("iptables-restore", ["--noflush"], { input: lines.join("\n"), stdio: ["pipe", "ignore", "pipe"] });
  } catch (err) {
    process.stderr.write(`test runtime: iptables cleanup failed: ${(err as Error).message}\n`);
  }
}

