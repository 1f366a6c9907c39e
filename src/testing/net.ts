// Ports for servers that tests and benchmarks start themselves.
import { createServer } from "node:net";
import { once } from "node:events";

/** A TCP port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const addr = server.address();
  server.close();
  await once(server, "close");
  if (addr === null || typeof addr === "string") throw new TypeError("listening socket has no port");
  return addr.port;
}
