// Every built-in resource the API server serves, in discovery order.
import type { ResourceDefinition } from "../registry/types.js";
import { pods } from "./core/pod.js";

export function builtinResources(): readonly ResourceDefinition[] {
  return [pods];
}
