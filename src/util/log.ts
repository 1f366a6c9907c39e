// One structured logger per process, passed down; components take child loggers.
import { pino, type Logger, type Level } from "pino";

export type { Logger };

export function createLogger(level: Level | "silent" = "info", name = "k8ts"): Logger {
  return pino({ name, level, base: { pid: process.pid } }, pino.destination({ dest: 2, sync: true }));
}
