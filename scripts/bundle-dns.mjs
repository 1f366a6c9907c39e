#!/usr/bin/env node
// Bundles the cluster DNS server (src/dns/main.ts and everything it imports, node_modules
// included) into one CommonJS file that runs with nothing but `node` beside it: the file the
// DNS image carries (src/kubelet/images/dns.ts). Built from the TypeScript sources directly,
// so it does not depend on a tsc run.
//   node scripts/bundle-dns.mjs [--outfile dist/dns/k8ts-dns.cjs]
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { build } from "esbuild";

const root = resolve(dirname(new URL(import.meta.url).pathname), "..");
const { values } = parseArgs({ options: { outfile: { type: "string" } } });
const outfile = resolve(values.outfile ?? join(root, "dist", "dns", "k8ts-dns.cjs"));

// The entry calls the program; src/dns/main.ts itself has no side effects on import.
const entry = `
import { dnsMain } from "./src/dns/main.ts";
dnsMain(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(String(err && err.stack || err) + "\\n");
    process.exit(1);
  },
);
`;

const result = await build({
  stdin: { contents: entry, resolveDir: root, sourcefile: "k8ts-dns-entry.ts", loader: "ts" },
  bundle: true,
  platform: "node",
  target: "node20",
  format: "cjs",
  outfile,
  sourcemap: false,
  legalComments: "eof",
  logLevel: "warning",
  metafile: true,
});
const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
process.stdout.write(`bundled ${outfile} (${(bytes / 1024).toFixed(0)} KiB)\n`);
