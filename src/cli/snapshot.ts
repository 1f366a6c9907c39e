// `k8ts snapshot save|restore`: placeholder registration, filled in by the storage work.
import type { Command } from "commander";

export function registerSnapshotCommands(_program: Command): void {}
