// Max in-flight: bounds how many requests run at once (mutating and read-only separately, as
// upstream's --max-requests-inflight / --max-mutating-requests-inflight). Long-running requests
// (watches, streams) do not count. Excess requests get 429 with Retry-After, which client-go retries.
import type { Filter, HttpContext } from "../http.js";
import { tooManyRequests } from "../status.js";

export interface MaxInFlightOptions {
  readonly readOnly: number;
  readonly mutating: number;
}

const mutatingVerbs = new Set(["create", "update", "patch", "delete", "deletecollection"]);

export function isLongRunning(ctx: HttpContext): boolean {
  const i = ctx.info;
  if (i.verb === "watch") return true;
  if (["exec", "attach", "portforward", "proxy", "log"].includes(i.subresource)) return true;
  return false;
}

export function maxInFlight(opts: MaxInFlightOptions): Filter {
  let readOnly = 0;
  let mutating = 0;
  return async (ctx, next) => {
    if (isLongRunning(ctx)) return next(ctx);
    const isMutating = mutatingVerbs.has(ctx.info.verb);
    if (isMutating ? mutating >= opts.mutating : readOnly >= opts.readOnly) {
      throw tooManyRequests("Too many requests, please try again later.", 1);
    }
    if (isMutating) mutating++;
    else readOnly++;
    try {
      await next(ctx);
    } finally {
      if (isMutating) mutating--;
      else readOnly--;
    }
  };
}
