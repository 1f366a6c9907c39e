// The entry of the standalone DNS program, the one file the DNS image runs
// (scripts/bundle-dns.mjs bundles it into dist/dns/k8ts-dns.cjs): argv in, server until
// SIGTERM/SIGINT. As PID 1 of a container Node gets no default signal handling, so the
// handlers here are what makes `kubectl delete pod` stop it promptly.
import { DnsError } from "./errors.js";
import { parseDnsArgv, runDns } from "./run.js";

export async function dnsMain(argv: readonly string[]): Promise<number> {
  let flags;
  try {
    flags = parseDnsArgv(argv, (s) => process.stdout.write(s));
  } catch (err) {
    process.stderr.write(`k8ts-dns: ${(err as Error).message}\nTry --help.\n`);
    return 2;
  }
  if (flags === undefined) return 0;
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    await runDns(flags, stop.signal);
    return 0;
  } catch (err) {
    if (err instanceof DnsError && err.code === "Stopped") return 0;
    process.stderr.write(`k8ts-dns: ${(err as Error).message}\n`);
    return 1;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}
