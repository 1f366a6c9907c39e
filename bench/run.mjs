#!/usr/bin/env node
// Runs one benchmark by name: `node bench/run.mjs storage [args…]` runs dist/bench/storage.js
// (compiled from bench/storage.ts; `npm run bench` builds first) in its own process. With no
// name or an unknown one it lists the benchmarks there are.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

const root = resolve(dirname(new URL(import.meta.url).pathname), "..");
const sources = join(root, "bench");

function names() {
  return readdirSync(sources)
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts") && !f.endsWith(".test.ts"))
    .map((f) => f.slice(0, -".ts".length))
    .sort();
}

const [name, ...rest] = process.argv.slice(2);
const known = names();
if (name === undefined || !known.includes(name)) {
  if (name !== undefined) console.error(`unknown benchmark ${JSON.stringify(name)}`);
  console.error(`usage: npm run bench -- <name> [args]\nbenchmarks: ${known.join(", ")}`);
  process.exit(name === undefined ? 0 : 2);
}
const compiled = join(root, "dist", "bench", `${name}.js`);
if (!existsSync(compiled)) {
  console.error(`${compiled} is missing: build first (npm run bench builds; or npx tsc -p .)`);
  process.exit(1);
}
const r = spawnSync(process.execPath, [compiled, ...rest], { cwd: root, stdio: "inherit" });
process.exit(r.status ?? 1);
