// `k8ts why pod/NAME`: for a pending pod, node by node, why it does not fit and what would make
// it fit, in plain words. It runs the scheduler's own PreFilter and Filter plugins against a
// snapshot read fresh from the API — every plugin on every node (the scheduler stops at the
// first failing plugin; an explanation should name all of them).
import type { Namespace, Node, PersistentVolume, PersistentVolumeClaim, Pod } from "kubernetes-types/core/v1.js";
import type { StorageClass } from "kubernetes-types/storage/v1.js";
import { deepFreeze, type DeepReadonly } from "../client/objects.js";
import type { RestClient } from "../client/rest.js";
import { SchedulerCache } from "./framework/cache.js";
import { fitErrorMessage } from "./framework/fiterror.js";
import { Framework } from "./framework/framework.js";
import { staticHandle } from "./framework/handle.js";
import { findUntoleratedTaint, LABEL_HOSTNAME, TAINT_NODE_UNSCHEDULABLE, taintString, tolerationsTolerateTaint } from "./framework/helpers.js";
import type { NodeInfo, RNode } from "./framework/nodeinfo.js";
import { isTerminal, newPodInfo, type PodInfo, type RPod } from "./framework/podinfo.js";
import { formatBytes, formatMilliCPU, RESOURCE_CPU, RESOURCE_EPHEMERAL_STORAGE, RESOURCE_MEMORY, RESOURCE_PODS } from "./framework/resources.js";
import { Code, CycleState, NodeToStatus, Status } from "./framework/types.js";
import { explainAffinity } from "./plugins/interpodaffinity.js";
import { INTER_POD_AFFINITY, NODE_AFFINITY, NODE_NAME, NODE_PORTS, NODE_RESOURCES_FIT, NODE_UNSCHEDULABLE, POD_TOPOLOGY_SPREAD, TAINT_TOLERATION, VOLUME_BINDING, VOLUME_RESTRICTIONS } from "./plugins/names.js";
import { requiredNodeAffinityOf } from "./plugins/nodeaffinity.js";
import { conflictingPorts } from "./plugins/nodeports.js";
import { fitsRequest, type InsufficientResource } from "./plugins/noderesourcesfit.js";
import { explainSpread } from "./plugins/podtopologyspread.js";
import type { VolumeRestrictions } from "./plugins/volumerestrictions.js";
import { claimsAwaitingProvisioning, explainVolumes, podHasClaims, unboundImmediateClaims, type VolumeLookup, type VolumeProblem } from "./plugins/volumebinding.js";
import { DEFAULT_SCHEDULER_NAME, filterOnlyProfile } from "./profile.js";

export interface Finding {
  /** The plugin that rejects the node. */
  readonly plugin: string;
  /** Upstream's reason text, as in FailedScheduling events. */
  readonly reason: string;
  /** What is wrong, in plain words. */
  readonly why: string;
  /** What would make the pod fit. */
  readonly fix: string;
}

export interface NodeVerdict {
  readonly node: string;
  readonly fits: boolean;
  readonly findings: readonly Finding[];
}

export interface WhyReport {
  readonly pod: string;
  /** "pending", or why there is nothing to explain ("scheduled", "terminating", ...). */
  readonly state: "pending" | "scheduled" | "terminating" | "finished" | "other-scheduler" | "gated";
  /** One line about the pod as a whole. */
  readonly summary: string;
  /** The message the scheduler would give (upstream's "0/N nodes are available: ..."). */
  readonly schedulerMessage: string | undefined;
  /** A rejection that applies before any node is looked at (PreFilter). */
  readonly podLevel: Finding | undefined;
  readonly nodes: readonly NodeVerdict[];
}

export interface WhyInput {
  readonly pod: DeepReadonly<Pod>;
  readonly nodes: readonly DeepReadonly<Node>[];
  /** Pods bound to nodes (others are ignored). */
  readonly pods: readonly DeepReadonly<Pod>[];
  readonly namespaces?: readonly DeepReadonly<Namespace>[];
  /** The claims of the pod's namespace, the volumes and the classes (for pods that use claims). */
  readonly claims?: readonly DeepReadonly<PersistentVolumeClaim>[];
  readonly volumes?: readonly DeepReadonly<PersistentVolume>[];
  readonly storageClasses?: readonly DeepReadonly<StorageClass>[];
  /** Our scheduler's name; default "default-scheduler". */
  readonly schedulerName?: string;
}

/** Whole or fractional cores ("2", "3.5"), millicores below one core ("100m"). */
const cores = (m: number): string => (m > 0 && m < 1000 ? `${Math.round(m)}m` : String(Math.round(m) / 1000));

function amountOf(p: PodInfo, resource: string): number {
  const r = p.requests;
  if (resource === RESOURCE_CPU) return r.milliCPU;
  if (resource === RESOURCE_MEMORY) return r.memory;
  if (resource === RESOURCE_EPHEMERAL_STORAGE) return r.ephemeralStorage;
  return r.getScalar(resource);
}

function resourceFinding(r: InsufficientResource, node: NodeInfo): Finding {
  const free = r.capacity - r.used;
  if (r.resourceName === RESOURCE_PODS) {
    return { plugin: NODE_RESOURCES_FIT, reason: r.reason, why: `already runs ${r.used} pods, its maximum (allocatable pods ${r.capacity})`, fix: `delete pods there, raise the node's pod limit, or add a node` };
  }
  let name: string;
  let fmt: (v: number) => string;
  let plain: (v: number) => string;
  if (r.resourceName === RESOURCE_CPU) {
    name = "CPU";
    fmt = formatMilliCPU;
    plain = cores;
  } else if (r.resourceName === RESOURCE_MEMORY || r.resourceName === RESOURCE_EPHEMERAL_STORAGE || r.resourceName.startsWith("hugepages-")) {
    name = r.resourceName === RESOURCE_MEMORY ? "memory" : r.resourceName;
    fmt = formatBytes;
    plain = formatBytes;
  } else {
    name = r.resourceName;
    fmt = String;
    plain = String;
  }
  if (r.requested > r.capacity) {
    return {
      plugin: NODE_RESOURCES_FIT,
      reason: r.reason,
      why: `requests ${plain(r.requested)} ${name} but the node has only ${plain(r.capacity)} allocatable`,
      fix: `lower the pod's ${name} request or add a node with ≥ ${plain(r.requested)} ${name}`,
    };
  }
  // Pods being deleted still hold their requests until they are gone.
  const leaving = node.pods.filter((p) => p.terminating).reduce((sum, p) => sum + amountOf(p, r.resourceName), 0);
  const pending = leaving > 0 ? `, ${plain(leaving)} of it held by pods being deleted` : "";
  return {
    plugin: NODE_RESOURCES_FIT,
    reason: r.reason,
    why: `needs ${fmt(r.requested - Math.max(0, free))} more ${name} than is free (requests ${plain(r.requested)}, allocatable ${plain(r.capacity)}, in use ${plain(r.used)}${pending})`,
    fix: `free ${name} or add a node with ≥ ${plain(r.requested)} ${name}`,
  };
}

/** Every finding for one node: each plugin that rejects it, explained. */
function findingsFor(fwk: Framework, state: CycleState, pod: PodInfo, node: NodeInfo, volumes: VolumeLookup): Finding[] {
  const out: Finding[] = [];
  for (const pl of fwk.profile.filter) {
    if (state.skipFilterPlugins.has(pl.name)) continue;
    const s = pl.filter(state, pod, node);
    if (s === null || s.code === Code.Success) continue;
    out.push(...explainStatus(fwk, pl.name, s, state, pod, node, volumes));
  }
  return out;
}

function volumeFinding(reason: string, p: VolumeProblem): Finding {
  const plugin = VOLUME_BINDING;
  switch (p.kind) {
    case "affinity":
      return { plugin, reason, why: `the volume ${p.volume} it uses (claim ${p.claim}) can only be mounted on nodes matching ${p.nodeAffinity}`, fix: "the pod can only run where its volume is: make room on such a node, or move the data to a volume this node can use" };
    case "missing-volume":
      return { plugin, reason, why: `its claim ${p.claim} is bound to volume ${p.volume}, which does not exist`, fix: `recreate the PersistentVolume ${p.volume}, or delete and recreate the claim (a new volume starts empty)` };
    case "selected-elsewhere":
      return { plugin, reason, why: `its claim ${p.claim} is already being provisioned on node ${p.node} (volume.kubernetes.io/selected-node)`, fix: `the pod can only go to ${p.node}; if provisioning is stuck there, delete the claim to start over` };
    case "no-volume":
      return p.cause === "no-provisioner"
        ? {
            plugin,
            reason,
            why: `no available PersistentVolume of class ${p.storageClass} fits its claim ${p.claim} here, and class ${p.storageClass} does not provision (kubernetes.io/no-provisioner)`,
            fix: `create a PersistentVolume of class ${p.storageClass}${p.request ? ` with at least ${p.request}` : ""}, the claim's access modes, and node affinity matching this node`,
          }
        : { plugin, reason, why: `class ${p.storageClass} of its claim ${p.claim} provisions only where ${p.allowedTopologies}, and this node is not there`, fix: `label the node to match, or widen the class's allowedTopologies` };
  }
}

function explainStatus(fwk: Framework, plugin: string, s: Status, state: CycleState, pod: PodInfo, node: NodeInfo, volumes: VolumeLookup): Finding[] {
  const reason = s.reasons.join(", ");
  switch (plugin) {
    case NODE_UNSCHEDULABLE:
      return [{ plugin, reason, why: "is cordoned (spec.unschedulable)", fix: `uncordon it (kubectl uncordon ${node.name}) or tolerate node.kubernetes.io/unschedulable:NoSchedule` }];
    case NODE_NAME:
      return [{ plugin, reason, why: `is not the node the pod names (spec.nodeName ${pod.pod.spec?.nodeName ?? ""})`, fix: "change spec.nodeName" }];
    case TAINT_TOLERATION: {
      const untolerated = node.taints.filter((t) => (t.effect === "NoSchedule" || t.effect === "NoExecute") && !tolerationsTolerateTaint(pod.tolerations, t));
      const first = findUntoleratedTaint(node.taints, pod.tolerations);
      // A cordoned node also carries the unschedulable taint: the cordon finding covers it.
      const list = (untolerated.length > 0 ? untolerated : first ? [first] : [])
        .filter((t) => !(node.unschedulable && t.key === TAINT_NODE_UNSCHEDULABLE))
        .map(taintString);
      if (list.length === 0) return [];
      return [{ plugin, reason, why: `has taint${list.length > 1 ? "s" : ""} ${list.join(", ")} the pod does not tolerate`, fix: `add a toleration for ${list.join(" and ")}` }];
    }
    case NODE_AFFINITY: {
      const e = requiredNodeAffinityOf(pod.pod).explain(node);
      const out: Finding[] = [];
      const pinned = pod.pod.spec?.nodeSelector?.[LABEL_HOSTNAME];
      if (pinned !== undefined && node.labels[LABEL_HOSTNAME] !== pinned) {
        return [{ plugin, reason, why: `is not ${pinned}, the host the pod's nodeSelector pins it to (${LABEL_HOSTNAME}=${pinned})`, fix: "change or remove the pod's nodeSelector" }];
      }
      if (e.missingLabels.length > 0) {
        out.push({ plugin, reason, why: `lacks label${e.missingLabels.length > 1 ? "s" : ""} ${e.missingLabels.join(", ")} required by the pod's nodeSelector`, fix: `label the node (kubectl label node ${node.name} ${e.missingLabels.join(" ")}) or change the nodeSelector` });
      }
      if (e.affinityFails) {
        out.push({ plugin, reason, why: "does not match the pod's required node affinity (requiredDuringSchedulingIgnoredDuringExecution)", fix: "label the node to match one of the nodeSelectorTerms, or relax the pod's node affinity" });
      }
      return out.length > 0 ? out : [{ plugin, reason, why: "does not match the pod's node selector or affinity", fix: "label the node to match, or relax the pod's node affinity" }];
    }
    case NODE_PORTS: {
      const ports = conflictingPorts(pod, node).map((p) => `${p.port}/${p.protocol}${p.ip !== "0.0.0.0" ? ` on ${p.ip}` : ""}`);
      return [{ plugin, reason, why: `already has host port${ports.length > 1 ? "s" : ""} ${ports.join(", ")} in use`, fix: "free the port on that node, pick another hostPort, or drop hostPort and use a Service" }];
    }
    case NODE_RESOURCES_FIT:
      return fitsRequest(pod, node).map((r) => resourceFinding(r, node));
    case INTER_POD_AFFINITY:
      return explainAffinity(state, node).map((e) => {
        const where = e.topologyKeys.map((k) => `${k}=${node.labels[k] ?? "(missing)"}`).join(", ");
        if (e.rule === "affinity") {
          const missing = e.topologyKeys.filter((k) => node.labels[k] === undefined);
          if (missing.length > 0) return { plugin, reason, why: `lacks topology label${missing.length > 1 ? "s" : ""} ${missing.join(", ")} that the pod's affinity needs`, fix: `label the node with ${missing.join(", ")}` };
          return { plugin, reason, why: `has no pod matching the pod's required affinity in its domain (${where})`, fix: "run a matching pod in that domain, or relax the pod's podAffinity" };
        }
        if (e.rule === "anti-affinity") return { plugin, reason, why: `already runs a pod the pod's anti-affinity excludes in its domain (${where})`, fix: "place the pod in another domain (add capacity there), or relax the pod's podAntiAffinity" };
        return { plugin, reason, why: `runs a pod whose anti-affinity excludes this pod from its domain (${where})`, fix: "move that pod, relax its podAntiAffinity, or use another domain" };
      });
    case POD_TOPOLOGY_SPREAD:
      return explainSpread(state, pod, node)
        .filter((c) => c.value === undefined || c.skew > c.maxSkew)
        .map((c) =>
          c.value === undefined
            ? { plugin, reason, why: `lacks the topology label ${c.topologyKey} its spread constraint needs`, fix: `label the node with ${c.topologyKey}` }
            : {
                plugin,
                reason,
                why: `placing the pod in ${c.topologyKey}=${c.value} would make the skew ${c.skew} (the emptiest domain has ${c.min}), above maxSkew ${c.maxSkew}`,
                fix: "add capacity in the less-loaded domains, raise maxSkew, or use whenUnsatisfiable: ScheduleAnyway",
              },
        );
    case VOLUME_RESTRICTIONS: {
      const vr = fwk.profile.filter.find((p) => p.name === VOLUME_RESTRICTIONS) as VolumeRestrictions | undefined;
      const users = vr?.explain(pod) ?? [];
      if (users.length === 0) return [{ plugin, reason, why: reason, fix: "" }];
      return users.map((u) => ({
        plugin,
        reason,
        why: `its claim ${u.claim} is ReadWriteOncePod and pod ${u.pod} (on ${u.node}) already uses it`,
        fix: `delete pod ${u.pod} (a higher-priority pod would preempt it), or use a claim with another access mode`,
      }));
    }
    case VOLUME_BINDING: {
      const found = explainVolumes(state, node, volumes).map((p) => volumeFinding(reason, p));
      return found.length > 0 ? found : [{ plugin, reason, why: reason, fix: "" }];
    }
    default:
      return [{ plugin, reason, why: reason, fix: "" }];
  }
}

function explainPreFilter(s: Status, pod: RPod, volumes: VolumeLookup): Finding {
  const reason = s.message();
  if (s.plugin === VOLUME_BINDING || s.plugin === VOLUME_RESTRICTIONS) return explainVolumePreFilter(reason, pod, volumes, s.plugin);
  return { plugin: s.plugin, reason, why: reason, fix: s.plugin === NODE_AFFINITY ? "fix the pod's node affinity: its terms name nodes that cannot all be satisfied" : "fix the pod's spec" };
}

/** VolumeBinding's pod-level reasons (upstream's messages, matched as the plugin writes them). */
function explainVolumePreFilter(reason: string, pod: RPod, volumes: VolumeLookup, plugin = VOLUME_BINDING): Finding {
  const ns = pod.metadata?.namespace ?? "";
  let m: RegExpMatchArray | null;
  if ((m = /^persistentvolumeclaim "(.*)" not found$/.exec(reason))) {
    return { plugin, reason, why: `its claim ${m[1]} does not exist`, fix: `create the PersistentVolumeClaim ${m[1]} in namespace ${ns}, or fix the claimName in the pod's volumes` };
  }
  if ((m = /^waiting for ephemeral volume controller to create the persistentvolumeclaim "(.*)"$/.exec(reason))) {
    return { plugin, reason, why: `the claim ${m[1]} of its ephemeral volume has not been created yet`, fix: "the ephemeral volume controller (controller-manager) makes it; check that it runs" };
  }
  if ((m = /^persistentvolumeclaim "(.*)" is being deleted$/.exec(reason))) {
    return { plugin, reason, why: `its claim ${m[1]} is being deleted`, fix: `wait until it is gone and create it again, or use another claim` };
  }
  if ((m = /^persistentvolumeclaim "(.*)" bound to non-existent persistentvolume "(.*)"$/.exec(reason))) {
    return { plugin, reason, why: `its claim ${m[1]} is bound to volume ${m[2]}, which no longer exists (the claim is Lost)`, fix: `recreate the PersistentVolume ${m[2]}, or delete and recreate the claim (a new volume starts empty)` };
  }
  if ((m = /^PVC .*\/(.*) was not created for pod /.exec(reason))) {
    return { plugin, reason, why: `the claim ${m[1]} its ephemeral volume would use belongs to something else`, fix: `delete the claim ${m[1]} so that the ephemeral volume controller makes one for this pod` };
  }
  if (reason === "pod has unbound immediate PersistentVolumeClaims") {
    const claims = unboundImmediateClaims(pod, volumes);
    const parts = claims.map((c) =>
      c.storageClass === ""
        ? `its claim ${c.claim} has no storage class and is not bound`
        : !c.classExists
          ? `its claim ${c.claim} names StorageClass ${c.storageClass}, which does not exist`
          : `its claim ${c.claim} is not bound and its class ${c.storageClass} binds immediately`,
    );
    const why = parts.length > 0 ? parts.join("; ") : "a claim it uses is not bound and its class binds immediately";
    const missingClass = claims.some((c) => c.storageClass !== "" && !c.classExists);
    const fix = missingClass
      ? "create the StorageClass, or change the claim's storageClassName"
      : "create a matching PersistentVolume (the PV controller binds it), or use a class that provisions";
    return { plugin, reason, why, fix };
  }
  return { plugin, reason, why: reason, fix: "fix the pod's volumes or their claims" };
}

/** Explains, for every node, why `input.pod` does (not) fit. Pure: no I/O. */
export function explain(input: WhyInput): WhyReport {
  const pod = input.pod as RPod;
  const key = `${pod.metadata?.namespace ?? ""}/${pod.metadata?.name ?? ""}`;
  const schedulerName = input.schedulerName ?? DEFAULT_SCHEDULER_NAME;
  const base = { pod: key, schedulerMessage: undefined, podLevel: undefined, nodes: [] };
  if (pod.spec?.nodeName) return { ...base, state: "scheduled", summary: `pod ${key} is scheduled to node ${pod.spec.nodeName}` };
  if (pod.metadata?.deletionTimestamp) return { ...base, state: "terminating", summary: `pod ${key} is being deleted; it will not be scheduled` };
  if (isTerminal(pod)) return { ...base, state: "finished", summary: `pod ${key} has finished (${pod.status?.phase ?? ""})` };
  const want = pod.spec?.schedulerName || DEFAULT_SCHEDULER_NAME;
  if (want !== schedulerName) return { ...base, state: "other-scheduler", summary: `pod ${key} asks for scheduler "${want}", not ${schedulerName}; that scheduler decides where it goes` };
  const gates = (pod.spec?.schedulingGates ?? []).map((g) => g.name);
  if (gates.length > 0) return { ...base, state: "gated", summary: `pod ${key} waits for its scheduling gates to be removed: ${gates.join(", ")}` };

  const cache = new SchedulerCache();
  for (const n of input.nodes) cache.addNode(n as RNode);
  for (const p of input.pods) {
    if (!p.spec?.nodeName || isTerminal(p as RPod) || p.metadata?.uid === pod.metadata?.uid) continue;
    cache.addPod(newPodInfo(p as RPod));
  }
  const handle = staticHandle(
    cache,
    (input.namespaces ?? []).map((n) => ({ name: n.metadata?.name ?? "", labels: n.metadata?.labels ?? {} })),
  );
  const volumes = volumeLookupOf(input);
  const fwk = new Framework(filterOnlyProfile(handle, schedulerName, volumes));
  const info = newPodInfo(pod);
  const state = new CycleState();
  const all = cache.list();
  if (all.length === 0) return { ...base, state: "pending", summary: `pod ${key} is pending: there are no nodes`, schedulerMessage: "no nodes available to schedule pods" };
  const pre = fwk.runPreFilter(state, info);
  if (pre.status && !pre.status.isSuccess()) {
    const statuses = new NodeToStatus();
    statuses.absent = pre.status;
    return { ...base, state: "pending", summary: `pod ${key} fits no node: ${pre.status.message()}`, schedulerMessage: fitErrorMessage(all.length, statuses, pre.status.message()), podLevel: explainPreFilter(pre.status, pod, volumes) };
  }
  const narrowed = pre.result?.nodeNames;
  const statuses = new NodeToStatus();
  const nodes: NodeVerdict[] = [];
  for (const ni of all) {
    if (narrowed && !narrowed.has(ni.name)) {
      const reason = `node(s) didn't satisfy plugin(s) [${pre.narrowedBy.join(" ")}]`;
      statuses.set(ni.name, new Status(Code.UnschedulableAndUnresolvable, [reason]));
      nodes.push({ node: ni.name, fits: false, findings: [{ plugin: NODE_AFFINITY, reason, why: "is not among the nodes the pod's node affinity names (matchFields metadata.name)", fix: "add this node's name to the pod's node affinity" }] });
      continue;
    }
    const first = fwk.runFilter(state, info, ni);
    if (first === null) {
      nodes.push({ node: ni.name, fits: true, findings: [] });
      continue;
    }
    statuses.set(ni.name, first);
    nodes.push({ node: ni.name, fits: false, findings: findingsFor(fwk, state, info, ni, volumes) });
  }
  const fitting = nodes.filter((n) => n.fits).length;
  if (fitting > 0) {
    const cond = (pod.status?.conditions ?? []).find((c) => c.type === "PodScheduled");
    const last = cond?.status === "False" && cond.message ? ` (the scheduler last said: ${cond.message})` : "";
    const provisioning = claimsAwaitingProvisioning(pod, volumes);
    if (provisioning.length > 0) {
      // The scheduler chose a node and waits (PreBind) for the claims' volumes to be made there.
      const list = provisioning.map((c) => `${c.claim} on node ${c.node}`).join(", ");
      return { ...base, state: "pending", summary: `pod ${key} waits for its claim(s) to be provisioned and bound: ${list} (volume.kubernetes.io/selected-node); check the claim's events and that a provisioner runs on that node${last}`, nodes };
    }
    return { ...base, state: "pending", summary: `pod ${key} fits ${fitting} of ${all.length} node(s) now; the scheduler should place it shortly${last}`, nodes };
  }
  const nominated = pod.status?.nominatedNodeName;
  const waiting = nominated ? `; it preempted pods on ${nominated} (status.nominatedNodeName) and is waiting for them to go` : "";
  return { ...base, state: "pending", summary: `pod ${key} fits none of the ${all.length} node(s)${waiting}`, schedulerMessage: fitErrorMessage(all.length, statuses, ""), nodes };
}

function volumeLookupOf(input: WhyInput): VolumeLookup {
  const claims = new Map((input.claims ?? []).map((c) => [`${c.metadata?.namespace ?? ""}/${c.metadata?.name ?? ""}`, c]));
  const pvs = new Map((input.volumes ?? []).map((v) => [v.metadata?.name ?? "", v]));
  const classes = new Map((input.storageClasses ?? []).map((c) => [c.metadata?.name ?? "", c]));
  return {
    claim: (ns, name) => claims.get(`${ns}/${name}`),
    volume: (name) => pvs.get(name),
    volumes: () => pvs.values(),
    storageClass: (name) => classes.get(name),
  };
}

/** Plain-text report: one line per node, longest lists cut at `maxNodes` with a tally of the rest. */
export function formatWhy(r: WhyReport, maxNodes = 50): string {
  const lines = [r.summary];
  if (r.schedulerMessage) lines.push(`scheduler: ${r.schedulerMessage}`);
  if (r.podLevel) lines.push(`  every node: ${r.podLevel.why}${r.podLevel.fix ? ` — ${r.podLevel.fix}` : ""}`);
  const shown = r.nodes.slice(0, maxNodes);
  for (const n of shown) {
    if (n.fits) lines.push(`  ${n.node}: fits`);
    else lines.push(`  ${n.node}: ${n.findings.map((f) => `${f.why}${f.fix ? ` — ${f.fix}` : ""}`).join("; ")}`);
  }
  const rest = r.nodes.slice(maxNodes);
  if (rest.length > 0) {
    const tally = new Map<string, number>();
    for (const n of rest) {
      const k = n.fits ? "fits" : [...new Set(n.findings.map((f) => f.reason))].join(", ");
      tally.set(k, (tally.get(k) ?? 0) + 1);
    }
    lines.push(`  ... and ${rest.length} more node(s): ${[...tally].map(([k, v]) => `${v} ${k}`).join("; ")}`);
  }
  return lines.join("\n") + "\n";
}

/** Reads the pod, the nodes, the bound pods and the namespaces through the API, then explains. */
export async function explainFromApi(client: RestClient, namespace: string, name: string, opts: { readonly schedulerName?: string; readonly signal?: AbortSignal } = {}): Promise<WhyReport> {
  const call = opts.signal ? { signal: opts.signal } : {};
  const [pod, nodes, pods, namespaces] = await Promise.all([
    client.forKind("v1", "Pod").namespace(namespace).get(name, call),
    client.forKind("v1", "Node").listAll(call),
    client.forKind("v1", "Pod").listAll({ fieldSelector: "spec.nodeName!=,status.phase!=Succeeded,status.phase!=Failed", ...call }),
    client.forKind("v1", "Namespace").listAll(call),
  ]);
  // Storage only for pods that use claims: most pods need none of it.
  const storage = podHasClaims(pod as RPod)
    ? await Promise.all([client.forKind("v1", "PersistentVolumeClaim").namespace(namespace).listAll(call), client.forKind("v1", "PersistentVolume").listAll(call), client.forKind("storage.k8s.io/v1", "StorageClass").listAll(call)])
    : undefined;
  return explain({
    pod: deepFreeze(pod),
    ...(storage
      ? {
          claims: storage[0].items.map((c) => deepFreeze(c)),
          volumes: storage[1].items.map((v) => deepFreeze(v)),
          storageClasses: storage[2].items.map((c) => deepFreeze(c)),
        }
      : {}),
    nodes: nodes.items.map((n) => deepFreeze(n)),
    pods: pods.items.map((p) => deepFreeze(p)),
    namespaces: namespaces.items.map((n) => deepFreeze(n)),
    ...(opts.schedulerName ? { schedulerName: opts.schedulerName } : {}),
  });
}
