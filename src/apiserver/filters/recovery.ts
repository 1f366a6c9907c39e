// Panic recovery: the outermost filter. A StatusError becomes its Status; anything else is a
// bug, logged with the request and answered 500 so one bad request never takes the server down.
import type { Logger } from "pino";
import { sendError, type Filter } from "../http.js";
import { StatusError, internalError } from "../status.js";

export function recovery(log: Logger): Filter {
  return async (ctx, next) => {
    try {
      await next(ctx);
    } catch (err) {
      if (err instanceof StatusError) {
        if (ctx.res.headersSent) ctx.res.end();
        else sendError(ctx, err);
        return;
      }
      log.error({ err, method: ctx.req.method, path: ctx.url.pathname }, "unhandled error serving request");
      if (ctx.res.headersSent) ctx.res.destroy();
      else sendError(ctx, internalError(err instanceof Error ? err.message : String(err)));
    }
  };
}
