// The entry of the standalone DNS program, the one file the DNS image runs
// (scripts/bundle-dns.mjs bundles it into dist/dns/k8ts-dns.cjs): argv in, server until
// SIGTERM/SIGINT, exit code out.
import { parseDnsArgv, runDnsUntilSignalled } from "./run.js";

export async function dnsMain(argv: readonly string[]): Promise<number> {
  let flags;
  try {
    flags = parseDnsArgv(argv, (s) => process.stdout.write(s));
  } catch (err) {
    process.stderr.write(`k8ts-dns: ${(err as Error).message}\nTry --help.\n`);
    return 2;
  }
  if (flags === undefined) return 0;
  try {
    await runDnsUntilSignalled(flags);
    return 0;
  } catch (err) {
    process.stderr.write(`k8ts-dns: ${(err as Error).message}\n`);
    return 1;
  }
}
