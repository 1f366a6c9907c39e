#!/usr/bin/env node
// Runs every compiled test file (dist/**/*.test.js) with node's test runner, whose summary CI reads.
// `npm test -- storage apiserver` runs only the files whose path contains one of the words.
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const root = resolve(dirname(new URL(import.meta.url).pathname), "..");
const filters = process.argv.slice(2).filter((a) => !a.startsWith("-"));
const passthrough = process.argv.slice(2).filter((a) => a.startsWith("-"));

function walk(dir, out = []) {
  let names;
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of names) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (p.endsWith(".test.js")) out.push(p);
  }
  return out;
}

const files = [...walk(join(root, "dist", "src")), ...walk(join(root, "dist", "test"))]
  .filter((f) => filters.length === 0 || filters.some((w) => relative(root, f).includes(w)))
  .sort();
if (files.length === 0) {
  console.error("no test files matched");
  process.exit(1);
}
const lint = filters.length === 0 ? spawnSync("npm", ["run", "-s", "lint"], { cwd: root, stdio: "inherit" }) : { status: 0 };
const r = spawnSync(process.execPath, ["--test", "--test-concurrency=2", ...passthrough, ...files], { cwd: root, stdio: "inherit" });
process.exit(lint.status !== 0 ? lint.status ?? 1 : r.status ?? 1);
