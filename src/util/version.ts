// What /version and `k8ts --version` report. gitVersion must parse as semver: kubectl compares
// its minor with the server's and warns on a skew of more than one.
export const VERSION = {
  major: "1",
  minor: "32",
  gitVersion: "v1.32.0-k8ts.0",
  gitCommit: "",
  gitTreeState: "clean",
  buildDate: "2026-11-26T00:00:00Z",
  goVersion: `node${process.versions.node}`,
  compiler: "tsc",
  platform: `${process.platform}/${process.arch === "x64" ? "amd64" : process.arch}`,
} as const;
