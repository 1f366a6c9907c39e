// The pod lifecycle: what the agent wires (see lifecycle.ts).
export { PodLifecycle, type PodLifecycleOptions } from "./lifecycle.js";
export { DEFAULT_BACKOFF, type BackoffPolicy } from "./backoff.js";
