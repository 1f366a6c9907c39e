// A resource's strategy driven as the generic store drives it around a write, without a
// server: what the declaration tests call, reading the validation errors as upstream prints them.
import type { KubeObject, ResourceDefinition, StrategyContext } from "../apiserver/registry/types.js";

export interface StrategyDriver {
  /** Defaults, prepareForCreate and validation of `obj` (changed in place); the errors as text. */
  create(def: ResourceDefinition, obj: KubeObject): string[];
  /** Defaults, prepareForUpdate and update validation of `obj` against `old`; the errors as text. */
  update(def: ResourceDefinition, obj: KubeObject, old: KubeObject): string[];
}

export function strategyDriver(ctx: StrategyContext): StrategyDriver {
  return {
    create(def, obj) {
      def.strategy.defaults?.(obj);
      def.strategy.prepareForCreate?.(obj, ctx);
      return (def.strategy.validate?.(obj, ctx) ?? []).map(String);
    },
    update(def, obj, old) {
      def.strategy.defaults?.(obj);
      def.strategy.prepareForUpdate?.(obj, old, ctx);
      return (def.strategy.validateUpdate?.(obj, old, ctx) ?? []).map(String);
    },
  };
}
