import type { Filter } from "../http.js";
import { parseRequestInfo } from "../requestinfo.js";

/** Parses what the request is about once, for every later stage. */
export const requestInfo: Filter = async (ctx, next) => {
  ctx.info = parseRequestInfo(ctx.req.method ?? "GET", ctx.url);
  await next(ctx);
};
