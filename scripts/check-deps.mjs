#!/usr/bin/env node
// Enforces the dependency direction of DESIGN.md by reading every import under src/:
//   api ← storage ← apiserver;  api ← client ← (controllers, scheduler, kubelet, proxy, dns, dashboard);
//   cli and testing wire everything. util is a leaf that anyone may use.
// It also rejects import cycles between files (type-only imports do not count: they vanish at runtime).
import { readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";

const root = resolve(dirname(new URL(import.meta.url).pathname), "..");
const src = join(root, "src");

const components = ["controllers", "scheduler", "kubelet", "proxy", "dns", "dashboard", "simnodes"];
/** @type {Record<string, string[] | "*">} what each top-level folder may import besides itself */
const allowed = {
  util: [],
  api: ["util"],
  storage: ["util", "api"],
  apiserver: ["util", "api", "storage"],
  client: ["util", "api"],
  ...Object.fromEntries(components.map((c) => [c, ["util", "api", "client"]])),
  cli: "*",
  testing: "*",
};

function walk(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (p.endsWith(".ts") && !p.endsWith(".d.ts")) out.push(p);
  }
  return out;
}

const importRe = /^\s*(import|export)\s+(type\s+)?(?:[^'"]*?\s+from\s+)?["']([^"']+)["']/gm;
const dynamicRe = /import\(\s*["']([^"']+)["']\s*\)/g;
const problems = [];
const graph = new Map();

for (const file of walk(src)) {
  const text = readFileSync(file, "utf8");
  const rel = relative(src, file);
  const layer = rel.split(sep)[0];
  const isTest = file.endsWith(".test.ts");
  const edges = [];
  const specs = [];
  for (const m of text.matchAll(importRe)) specs.push({ spec: m[3], typeOnly: Boolean(m[2]) });
  for (const m of text.matchAll(dynamicRe)) specs.push({ spec: m[1], typeOnly: false });
  for (const { spec, typeOnly } of specs) {
    if (!spec.startsWith(".")) continue;
    const target = resolve(dirname(file), spec).replace(/\.js$/, ".ts");
    const trel = relative(src, target);
    if (trel.startsWith("..")) continue;
    const tlayer = trel.split(sep)[0];
    if (!typeOnly) edges.push(target);
    if (tlayer === layer || isTest || tlayer === "testing" && isTest) continue;
    const ok = allowed[layer];
    if (ok === undefined) problems.push(`${rel}: folder src/${layer} is not in the dependency map of scripts/check-deps.mjs`);
    else if (ok !== "*" && !ok.includes(tlayer)) problems.push(`${rel}: src/${layer} must not import src/${tlayer} (${spec})`);
  }
  graph.set(file, edges);
}

// Cycle detection (iterative DFS with colours).
const colour = new Map();
for (const start of graph.keys()) {
  if (colour.get(start)) continue;
  const stack = [[start, 0]];
  const path = [start];
  colour.set(start, 1);
  while (stack.length) {
    const top = stack[stack.length - 1];
    const edges = graph.get(top[0]) ?? [];
    if (top[1] >= edges.length) {
      colour.set(top[0], 2);
      stack.pop();
      path.pop();
      continue;
    }
    const next = edges[top[1]++];
    const c = colour.get(next);
    if (c === 1) {
      const cyc = path.slice(path.indexOf(next)).concat(next).map((f) => relative(src, f));
      problems.push(`import cycle: ${cyc.join(" → ")}`);
    } else if (!c && graph.has(next)) {
      colour.set(next, 1);
      stack.push([next, 0]);
      path.push(next);
    }
  }
}

if (problems.length) {
  for (const p of problems) console.error(p);
  process.exit(1);
}
console.log(`dependency direction: ${graph.size} files checked, no violations`);
