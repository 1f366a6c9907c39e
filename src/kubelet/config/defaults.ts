// The defaults the API server would give a pod (upstream's core/v1 SetDefaults_Pod and
// SetDefaults_PodSpec, and what the Priority admission plugin sets for the system classes),
// applied to static pods, which never pass through the API server: the kubelet's file and
// http sources default them the same way (legacyscheme.Scheme.Default), so a static pod runs
// exactly as the same manifest would through `kubectl apply`.
import type { Container, PodSpec, Probe, Volume } from "kubernetes-types/core/v1.js";
import { DEFAULT_GRACE_SECONDS } from "../pods/container.js";

/** upstream's scheduling.SystemCriticalPriority and the two classes built on it */
export const SYSTEM_PRIORITY_CLASSES: Readonly<Record<string, number>> = Object.freeze({
  "system-cluster-critical": 2_000_000_000,
  "system-node-critical": 2_000_001_000,
});

/** "latest" when the reference has neither tag nor digest, the tag when it has one, "" for a digest only. */
export function imageTag(image: string): string {
  if (image.includes("@")) {
    const name = image.slice(0, image.indexOf("@"));
    const slash = name.lastIndexOf("/");
    const colon = name.lastIndexOf(":");
    return colon > slash ? name.slice(colon + 1) : "";
  }
  const slash = image.lastIndexOf("/");
  const colon = image.lastIndexOf(":");
  return colon > slash ? image.slice(colon + 1) : "latest";
}

/** Always for `:latest` (or no tag), IfNotPresent otherwise, as upstream's defaulting. */
export function defaultPullPolicy(image: string): "Always" | "IfNotPresent" {
  return imageTag(image) === "latest" ? "Always" : "IfNotPresent";
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function defaultProbe(p: Probe | undefined): void {
  if (!p) return;
  const m = p as Mutable<Probe>;
  m.timeoutSeconds ||= 1;
  m.periodSeconds ||= 10;
  m.successThreshold ||= 1;
  m.failureThreshold ||= 3;
  if (m.httpGet) {
    m.httpGet.path ||= "/";
    m.httpGet.scheme ||= "HTTP";
  }
}

function defaultContainer(c: Mutable<Container>, hostNetwork: boolean): void {
  c.terminationMessagePath ||= "/dev/termination-log";
  c.terminationMessagePolicy ||= "File";
  c.imagePullPolicy ||= defaultPullPolicy(c.image ?? "");
  c.resources ??= {};
  const limits = c.resources.limits;
  // Requests default to limits, resource by resource (SetDefaults_Pod).
  if (limits && Object.keys(limits).length > 0) c.resources.requests = { ...limits, ...c.resources.requests };
  for (const p of c.ports ?? []) {
    p.protocol ||= "TCP";
    if (hostNetwork && !p.hostPort) p.hostPort = p.containerPort;
  }
  defaultProbe(c.livenessProbe);
  defaultProbe(c.readinessProbe);
  defaultProbe(c.startupProbe);
  for (const h of [c.lifecycle?.postStart, c.lifecycle?.preStop]) {
    if (h?.httpGet) {
      h.httpGet.path ||= "/";
      h.httpGet.scheme ||= "HTTP";
    }
  }
  for (const e of c.env ?? []) {
    if (e.valueFrom?.fieldRef) e.valueFrom.fieldRef.apiVersion ||= "v1";
    if (e.valueFrom?.resourceFieldRef) e.valueFrom.resourceFieldRef.divisor ??= "0";
  }
}

function defaultVolume(v: Mutable<Volume>): void {
  const sources = Object.keys(v).filter((k) => k !== "name" && (v as Record<string, unknown>)[k] !== undefined);
  if (sources.length === 0) v.emptyDir = {};
  if (v.secret) v.secret.defaultMode ??= 0o644;
  if (v.configMap) v.configMap.defaultMode ??= 0o644;
  if (v.downwardAPI) {
    v.downwardAPI.defaultMode ??= 0o644;
    for (const i of v.downwardAPI.items ?? []) if (i.fieldRef) i.fieldRef.apiVersion ||= "v1";
  }
  if (v.projected) {
    v.projected.defaultMode ??= 0o644;
    for (const s of v.projected.sources ?? []) {
      if (s.serviceAccountToken) s.serviceAccountToken.expirationSeconds ??= 3600;
      for (const i of s.downwardAPI?.items ?? []) if (i.fieldRef) i.fieldRef.apiVersion ||= "v1";
    }
  }
  if (v.hostPath) v.hostPath.type ??= "";
}

/** Applies the API server's pod defaults in place. */
export function applyPodDefaults(spec: Mutable<PodSpec>): void {
  spec.dnsPolicy ||= "ClusterFirst";
  spec.restartPolicy ||= "Always";
  spec.securityContext ??= {};
  spec.terminationGracePeriodSeconds ??= DEFAULT_GRACE_SECONDS;
  spec.schedulerName ||= "default-scheduler";
  spec.enableServiceLinks ??= true;
  if (!spec.serviceAccountName && spec.serviceAccount) spec.serviceAccountName = spec.serviceAccount;
  if (spec.serviceAccountName) spec.serviceAccount = spec.serviceAccountName;
  const hostNetwork = spec.hostNetwork === true;
  for (const c of spec.initContainers ?? []) defaultContainer(c, hostNetwork);
  for (const c of spec.containers) defaultContainer(c, hostNetwork);
  for (const v of spec.volumes ?? []) defaultVolume(v);
  // The system classes exist in every cluster with fixed values; other classes (and the
  // global default) are only known to the API server, which sets them on the mirror pod.
  const priority = spec.priorityClassName ? SYSTEM_PRIORITY_CLASSES[spec.priorityClassName] : undefined;
  if (priority !== undefined && spec.priority === undefined) {
    spec.priority = priority;
    spec.preemptionPolicy ??= "PreemptLowerPriority";
  }
}
