// The server-side table of pods: the READY, STATUS and RESTARTS cells exactly as upstream's
// printPod computes them (init container progress `Init:1/2`, waiting/terminated reasons such
// as CrashLoopBackOff, `Completed`, `Terminating`, `SchedulingGated`, restarts with
// "(5m ago)"), since those three cells are what users read most.
import type { TableDefinition, KubeObject } from "../../registry/types.js";
import { D } from "../descriptions.js";
import { ageColumn, column, nameColumn, parseTime, since } from "../print.js";
import { asBool, asNum, asObj, asStr, deletionOf, nameOf, objs, type Json } from "../util.js";

const NODE_UNREACHABLE_REASON = "NodeLost";

function isRestartable(c: Json | undefined): boolean {
  return c?.restartPolicy === "Always";
}

function conditionTrue(status: Json, type: string): boolean {
  return objs(status.conditions).some((c) => c.type === type && c.status === "True");
}

function terminatedAt(cs: Json): number | undefined {
  const t = asObj(asObj(cs.lastState)?.terminated);
  return t ? parseTime(asStr(t.finishedAt)) : undefined;
}

export interface PodCells {
  ready: string;
  status: string;
  restarts: string;
}

/** READY, STATUS and RESTARTS of one pod at `now`. */
export function podStatusCells(pod: Readonly<KubeObject>, now: Date): PodCells {
  const spec = asObj(pod.spec) ?? {};
  const status = asObj(pod.status) ?? {};
  const initSpecs = objs(spec.initContainers);
  let restarts = 0;
  let restartableInitRestarts = 0;
  let totalContainers = objs(spec.containers).length;
  let readyContainers = 0;
  let lastRestart: number | undefined;
  let lastRestartableInitRestart: number | undefined;
  const later = (a: number | undefined, b: number | undefined): number | undefined => (a === undefined ? b : b === undefined ? a : Math.max(a, b));

  const phase = asStr(status.phase) ?? "";
  let reason = phase;
  const statusReason = asStr(status.reason);
  if (statusReason) reason = statusReason;

  for (const c of objs(status.conditions)) {
    if (c.type === "PodScheduled" && c.reason === "SchedulingGated") reason = "SchedulingGated";
  }

  const initByName = new Map<string, Json>();
  for (const c of initSpecs) {
    const n = asStr(c.name);
    if (n !== undefined) initByName.set(n, c);
    if (isRestartable(c)) totalContainers++;
  }

  let initializing = false;
  const initStatuses = objs(status.initContainerStatuses);
  for (let i = 0; i < initStatuses.length; i++) {
    const cs = initStatuses[i]!;
    const state = asObj(cs.state) ?? {};
    const terminated = asObj(state.terminated);
    const waiting = asObj(state.waiting);
    const restartCount = asNum(cs.restartCount) ?? 0;
    restarts += restartCount;
    lastRestart = later(lastRestart, terminatedAt(cs));
    const restartable = isRestartable(initByName.get(asStr(cs.name) ?? ""));
    if (restartable) {
      restartableInitRestarts += restartCount;
      lastRestartableInitRestart = later(lastRestartableInitRestart, terminatedAt(cs));
    }
    if (terminated && (asNum(terminated.exitCode) ?? 0) === 0) continue;
    if (restartable && asBool(cs.started) === true) {
      if (asBool(cs.ready) === true) readyContainers++;
      continue;
    }
    if (terminated) {
      const r = asStr(terminated.reason) ?? "";
      if (r === "") {
        const signal = asNum(terminated.signal) ?? 0;
        reason = signal !== 0 ? `Init:Signal:${signal}` : `Init:ExitCode:${asNum(terminated.exitCode) ?? 0}`;
      } else {
        reason = `Init:${r}`;
      }
    } else if (waiting && (asStr(waiting.reason) ?? "") !== "" && waiting.reason !== "PodInitializing") {
      reason = `Init:${asStr(waiting.reason) ?? ""}`;
    } else {
      reason = `Init:${i}/${initSpecs.length}`;
    }
    initializing = true;
    break;
  }

  if (!initializing || conditionTrue(status, "Initialized")) {
    restarts = restartableInitRestarts;
    lastRestart = lastRestartableInitRestart;
    let hasRunning = false;
    const statuses = objs(status.containerStatuses);
    for (let i = statuses.length - 1; i >= 0; i--) {
      const cs = statuses[i]!;
      const state = asObj(cs.state) ?? {};
      const terminated = asObj(state.terminated);
      const waiting = asObj(state.waiting);
      restarts += asNum(cs.restartCount) ?? 0;
      lastRestart = later(lastRestart, terminatedAt(cs));
      if (waiting && (asStr(waiting.reason) ?? "") !== "") {
        reason = asStr(waiting.reason) ?? "";
      } else if (terminated && (asStr(terminated.reason) ?? "") !== "") {
        reason = asStr(terminated.reason) ?? "";
      } else if (terminated) {
        const signal = asNum(terminated.signal) ?? 0;
        reason = signal !== 0 ? `Signal:${signal}` : `ExitCode:${asNum(terminated.exitCode) ?? 0}`;
      } else if (asBool(cs.ready) === true && asObj(state.running)) {
        hasRunning = true;
        readyContainers++;
      }
    }
    // A pod whose last container completed while another still runs is shown as running.
    if (reason === "Completed" && hasRunning) reason = conditionTrue(status, "Ready") ? "Running" : "NotReady";
  }

  if (deletionOf(pod) !== undefined && statusReason === NODE_UNREACHABLE_REASON) {
    reason = "Unknown";
  } else if (deletionOf(pod) !== undefined && phase !== "Failed" && phase !== "Succeeded") {
    reason = "Terminating";
  }

  let restartsText = String(restarts);
  if (restarts !== 0 && lastRestart !== undefined && lastRestart > 0) {
    restartsText = `${restarts} (${since(new Date(lastRestart).toISOString(), now)} ago)`;
  }
  return { ready: `${readyContainers}/${totalContainers}`, status: reason, restarts: restartsText };
}

function readinessGates(spec: Json, status: Json): string {
  const gates = objs(spec.readinessGates);
  if (gates.length === 0) return "<none>";
  let trueConditions = 0;
  for (const g of gates) {
    const c = objs(status.conditions).find((x) => x.type === g.conditionType);
    if (c?.status === "True") trueConditions++;
  }
  return `${trueConditions}/${gates.length}`;
}

export const podTable: TableDefinition = {
  columns: [
    nameColumn(),
    column("Ready", "string", "The aggregate readiness state of this pod for accepting traffic."),
    column("Status", "string", "The aggregate status of the containers in this pod."),
    column("Restarts", "string", "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted."),
    ageColumn,
    column("IP", "string", D.podIP, 1),
    column("Node", "string", D.podNodeName, 1),
    column("Nominated Node", "string", D.podNominatedNodeName, 1),
    column("Readiness Gates", "string", D.podReadinessGates, 1),
  ],
  row(pod, now) {
    const spec = asObj(pod.spec) ?? {};
    const status = asObj(pod.status) ?? {};
    const cells = podStatusCells(pod, now);
    const podIP = asStr(objs(status.podIPs)[0]?.ip) || "<none>";
    const nodeName = asStr(spec.nodeName) || "<none>";
    const nominated = asStr(status.nominatedNodeName) || "<none>";
    return [nameOf(pod), cells.ready, cells.status, cells.restarts, since(asStr(asObj(pod.metadata)?.creationTimestamp), now), podIP, nodeName, nominated, readinessGates(spec, status)];
  },
};
