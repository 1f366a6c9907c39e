// Pod cgroups: the runtime makes `<cgroupParent>/pod<uid>` (the sandbox's cgroup parent) in every
// hierarchy when the pod's first container starts, and removes its containers' cgroups with
// them, but never the pod's own directory. Upstream's kubelet removes it once the pod is gone
// (its pod container manager); so does this, or every deleted pod would leave an empty cgroup
// in each hierarchy behind.
import { readdir, rmdir, stat } from "node:fs/promises";
import { join } from "node:path";

export const CGROUP_MOUNT = "/sys/fs/cgroup";

/** Where a pod's cgroup is below a hierarchy's root (the sandbox's linux.cgroupParent). */
export function podCgroupPath(cgroupParent: string, uid: string): string {
  return `${cgroupParent.replace(/\/+$/, "")}/pod${uid}`;
}

/**
 * Removes the pod's cgroup in every hierarchy under `mount` (each cgroup v1 controller, the
 * unified v2 mount, or `mount` itself when it is cgroup v2), deepest first. Only empty cgroups
 * can go: one that still holds a process stays (EBUSY), and is tried again at the next removal.
 */
export async function removePodCgroups(cgroupParent: string, uid: string, mount = CGROUP_MOUNT): Promise<void> {
  await Promise.all((await podCgroupDirs(cgroupParent, uid, mount)).map(removeTree));
}

/** The pod's cgroup directories that exist now, one per hierarchy it has one in. */
export async function podCgroupDirs(cgroupParent: string, uid: string, mount = CGROUP_MOUNT): Promise<string[]> {
  const rel = podCgroupPath(cgroupParent, uid);
  const dirs = (await hierarchies(mount)).map((h) => join(h, rel));
  const present = await Promise.all(dirs.map((d) => stat(d).then((st) => st.isDirectory(), () => false)));
  return dirs.filter((_, i) => present[i]);
}

/**
 * Removes, in every hierarchy, the pod cgroups under `cgroupParent` of pods that `claimed` does
 * not name (pods removed while no kubelet ran), as removePodCgroups does for one pod.
 */
export async function removeUnclaimedPodCgroups(cgroupParent: string, claimed: (uid: string) => boolean, mount = CGROUP_MOUNT): Promise<void> {
  const stale: string[] = [];
  for (const h of await hierarchies(mount)) {
    const parent = join(h, cgroupParent);
    for (const e of await readdir(parent, { withFileTypes: true }).catch(() => [])) {
      if (e.isDirectory() && e.name.startsWith("pod") && e.name.length > 3 && !claimed(e.name.slice(3))) stale.push(join(parent, e.name));
    }
  }
  await Promise.all(stale.map(removeTree));
}

async function hierarchies(mount: string): Promise<string[]> {
  return [mount, ...(await readdir(mount).catch(() => [] as string[])).map((h) => join(mount, h))];
}

async function removeTree(dir: string): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => undefined);
  if (!entries) return;
  for (const e of entries) if (e.isDirectory()) await removeTree(join(dir, e.name));
  await rmdir(dir).catch(() => undefined);
}
