// Exec, attach and port-forward streams between clients (kubectl through the API server, which
// passes upgrades through untouched) and the runtime's streaming server, whose URL CRI
// Exec/Attach/PortForward return.
//
// Design. containerd 1.6's streaming server is upstream's old kubelet streaming library. It
// speaks SPDY/3.1 (remote command v1–v4, portforward.k8s.io) and WebSocket channel protocols
// ("", channel.k8s.io, base64.channel.k8s.io and their v4. forms) but not WebSocket
// v5.channel.k8s.io (kubectl ≥1.30's exec/attach) nor SPDY tunnelled in WebSocket
// (SPDY/3.1+portforward.k8s.io, kubectl ≥1.31's port-forward): it answers both with 403, which
// kubectl would survive by falling back to SPDY, at the price of a failed round trip and of
// every WebSocket-only client. So the kubelet:
//  - passes everything the runtime speaks through byte for byte (the client's upgrade request
//    replayed to the runtime's URL, then the two sockets piped): SPDY exec/attach/port-forward
//    from every kubectl, and the WebSocket v1–v4 channel protocols of other clients;
//  - bridges WebSocket v5 exec/attach: it accepts the WebSocket itself and drives a SPDY v4
//    session on the runtime (spdy.ts). v5 differs from v4 only by the CLOSE signal
//    ([255, channel]); a WebSocket v4 session on the runtime could not carry it (stdin's end
//    would never reach the process: `kubectl exec -i … < file`, `kubectl cp` into a pod), a
//    SPDY stream can (FIN). Channel numbers map to SPDY streams by streamType; the error
//    stream's v4 Status JSON is the v5 status message as it is;
//  - unwraps the port-forward tunnel: the WebSocket's binary messages are the bytes of a SPDY
//    session, so after upgrading to SPDY (portforward.k8s.io) on the runtime the kubelet only
//    copies bytes between the WebSocket messages and that socket.
// Upstream places the same two translations in the API server; here the API server stays a
// plain proxy and anything that reaches the kubelet directly gets them too.
import { createConnection, type Socket } from "node:net";
import { request as httpRequest, STATUS_CODES, type IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, createWebSocketStream, type WebSocket, type RawData } from "ws";
import type { Logger } from "../../util/log.js";
import { SpdyClientSession } from "./spdy.js";

export const STREAM_PROTOCOL_V5 = "v5.channel.k8s.io";
export const STREAM_PROTOCOL_V4 = "v4.channel.k8s.io";
export const PORT_FORWARD_PROTOCOL = "portforward.k8s.io";
export const PORT_FORWARD_TUNNEL_PROTOCOL = "SPDY/3.1+portforward.k8s.io";

/** v5 channel that carries the CLOSE signal: [255, channel] half-closes that channel. */
const CLOSE_CHANNEL = 255;
const STDIN = 0;
const STDOUT = 1;
const STDERR = 2;
const ERROR = 3;
const RESIZE = 4;

/** Above this many queued bytes the producing side is paused until the consumer drains. */
const HIGH_WATER = 1024 * 1024;

export interface RemoteCommandOptions {
  readonly stdin: boolean;
  readonly stdout: boolean;
  readonly stderr: boolean;
  readonly tty: boolean;
}

export type StreamKind = "exec" | "attach" | "portforward";
export type StreamMode = "passthrough" | "bridge-v5" | "tunnel";

export function isWebSocketRequest(req: IncomingMessage): boolean {
  return (req.headers.upgrade ?? "").toLowerCase() === "websocket";
}

export function requestedSubprotocols(req: IncomingMessage): string[] {
  return (req.headers["sec-websocket-protocol"] ?? "")
    .split(",")
    .map((p) => p.trim())
    .filter((p) => p !== "");
}

/** How a streaming upgrade is served (see the design note above). */
export function streamMode(kind: StreamKind, req: IncomingMessage): StreamMode {
  if (!isWebSocketRequest(req)) return "passthrough";
  const protocols = requestedSubprotocols(req);
  if (kind === "portforward") return protocols.includes(PORT_FORWARD_TUNNEL_PROTOCOL) ? "tunnel" : "passthrough";
  return protocols.includes(STREAM_PROTOCOL_V5) ? "bridge-v5" : "passthrough";
}

/** Answers an upgrade request that will not be upgraded, on its raw socket. */
export function writeHttpError(socket: Duplex, code: number, message: string): void {
  if (socket.destroyed) return;
  const body = Buffer.from(message.endsWith("\n") ? message : message + "\n");
  socket.end(`HTTP/1.1 ${code} ${STATUS_CODES[code] ?? "Error"}\r\nContent-Type: text/plain; charset=utf-8\r\nX-Content-Type-Options: nosniff\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body.toString("utf8")}`);
}

/** The runtime refused the upgrade: its status and body, to be told to the client. */
export class UpstreamRefused extends Error {
  override readonly name = "UpstreamRefused";
  readonly code = "UpstreamRefused";
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`streaming server answered ${status}: ${body.trim()}`);
  }
}

/** Opens a SPDY/3.1 session on the runtime's URL with one sub-protocol. */
export function spdyUpgrade(target: URL, protocol: string, signal?: AbortSignal): Promise<{ socket: Socket; head: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(target, {
      method: "POST",
      headers: { Connection: "Upgrade", Upgrade: "SPDY/3.1", "X-Stream-Protocol-Version": protocol, "Content-Length": "0" },
      timeout: 30_000,
      ...(signal ? { signal } : {}),
    });
    req.on("upgrade", (res, socket, head) => {
      const agreed = res.headers["x-stream-protocol-version"];
      if (agreed !== undefined && agreed !== protocol) {
        socket.destroy();
        reject(new UpstreamRefused(502, `streaming server agreed to ${String(agreed)} instead of ${protocol}`));
        return;
      }
      socket.setNoDelay(true);
      resolve({ socket, head });
    });
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.length < 64 && chunks.push(c));
      res.on("end", () => reject(new UpstreamRefused(res.statusCode ?? 502, Buffer.concat(chunks).toString("utf8"))));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error("timed out upgrading the connection to the streaming server")));
    req.on("error", reject);
    req.end();
  });
}

function pipeBothWays(a: Duplex, b: Duplex): void {
  const end = (): void => {
    a.destroy();
    b.destroy();
  };
  a.on("error", end);
  b.on("error", end);
  a.on("close", end);
  b.on("close", end);
  a.pipe(b);
  b.pipe(a);
}

/**
 * Replays the client's upgrade request on the runtime's URL (its own query kept: the runtime
 * reads port-forward ports from it) and pipes both sockets; the runtime's answer, 101 or an
 * error, reaches the client as the runtime wrote it.
 */
export function passthrough(req: IncomingMessage, client: Duplex, head: Buffer, target: URL, log: Logger): void {
  const query = new URL(req.url ?? "/", "http://x").search;
  const path = target.pathname + (target.search || query);
  const upstream = createConnection({ host: target.hostname, port: Number(target.port || 80) });
  let connected = false;
  upstream.setNoDelay(true);
  upstream.once("connect", () => {
    connected = true;
    const lines = [`${req.method ?? "GET"} ${path} HTTP/1.1`, `Host: ${target.host}`];
    const raw = req.rawHeaders;
    for (let i = 0; i + 1 < raw.length; i += 2) {
      if (raw[i]!.toLowerCase() === "host") continue;
      lines.push(`${raw[i]}: ${raw[i + 1]}`);
    }
    upstream.write(lines.join("\r\n") + "\r\n\r\n");
    if (head.length > 0) upstream.write(head);
    pipeBothWays(client, upstream);
  });
  upstream.once("error", (err) => {
    if (connected) return;
    log.warn({ err, url: target.origin }, "cannot reach the runtime's streaming server");
    writeHttpError(client, 502, `error dialing the streaming server: ${err.message}`);
  });
  client.once("close", () => {
    if (!connected) upstream.destroy();
  });
}

/**
 * `ws` refuses (400) a Sec-WebSocket-Protocol that is not a list of RFC 7230 tokens, and "/" in
 * SPDY/3.1+portforward.k8s.io is not a token character (gorilla, which client-go uses, does
 * not check). The request's header is swapped for this alias before `ws` reads it; the answer
 * names the real protocol.
 */
const TUNNEL_ALIAS = "k8ts-spdy-3.1-portforward-tunnel";

const wss = new WebSocketServer({
  noServer: true,
  perMessageDeflate: false,
  // Only the two protocols the kubelet itself terminates (everything else is passed through).
  handleProtocols: (protocols) => (protocols.has(STREAM_PROTOCOL_V5) ? STREAM_PROTOCOL_V5 : protocols.has(TUNNEL_ALIAS) ? PORT_FORWARD_TUNNEL_PROTOCOL : false),
});

function acceptWebSocket(req: IncomingMessage, client: Duplex, head: Buffer): Promise<WebSocket> {
  return new Promise((resolve) => wss.handleUpgrade(req, client, head, (ws) => resolve(ws)));
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/** Upgrades to SPDY on the runtime first, so that a refusal still reaches the client as HTTP. */
async function upstreamOrAnswer(client: Duplex, target: URL, protocol: string, log: Logger): Promise<{ socket: Socket; head: Buffer } | undefined> {
  const abort = new AbortController();
  const onClose = (): void => abort.abort();
  client.once("close", onClose);
  try {
    return await spdyUpgrade(target, protocol, abort.signal);
  } catch (err) {
    if (err instanceof UpstreamRefused) writeHttpError(client, err.status >= 400 ? err.status : 502, err.body || err.message);
    else {
      log.warn({ err, url: target.origin }, "cannot reach the runtime's streaming server");
      writeHttpError(client, 502, `error dialing the streaming server: ${(err as Error).message}`);
    }
    return undefined;
  } finally {
    client.off("close", onClose);
  }
}

/** WebSocket v5 exec/attach at the client, a SPDY v4 remote-command session at the runtime. */
export async function bridgeRemoteCommand(req: IncomingMessage, client: Duplex, head: Buffer, target: URL, opts: RemoteCommandOptions, log: Logger): Promise<void> {
  const up = await upstreamOrAnswer(client, target, STREAM_PROTOCOL_V4, log);
  if (!up) return;
  if (client.destroyed) {
    up.socket.destroy();
    return;
  }
  const ws = await acceptWebSocket(req, client, head);
  const session = new SpdyClientSession(up.socket, up.head);
  // The runtime waits for exactly the streams the session was created with (error always).
  const errorStream = session.openStream({ streamtype: "error" });
  const stdin = opts.stdin ? session.openStream({ streamtype: "stdin" }) : undefined;
  const stdout = opts.stdout ? session.openStream({ streamtype: "stdout" }) : undefined;
  const stderr = opts.stderr && !opts.tty ? session.openStream({ streamtype: "stderr" }) : undefined;
  const resize = opts.tty ? session.openStream({ streamtype: "resize" }) : undefined;

  const send = (channel: number, data: Buffer): void => {
    if (ws.readyState !== ws.OPEN) return;
    ws.send(Buffer.concat([Buffer.from([channel]), data]), { binary: true }, () => {
      if (ws.bufferedAmount < HIGH_WATER && up.socket.isPaused()) up.socket.resume();
    });
    if (ws.bufferedAmount >= HIGH_WATER) up.socket.pause();
  };
  // Unlike upstream's servers, no empty "connected" frame: client-go registers its streams
  // only after the WebSocket is up, and a frame that beats that is logged as "Unknown stream id".
  stdout?.on("data", (d) => send(STDOUT, d));
  stderr?.on("data", (d) => send(STDERR, d));
  errorStream.on("data", (d) => send(ERROR, d));

  ws.on("message", (raw, isBinary) => {
    const msg = toBuffer(raw);
    if (!isBinary || msg.length === 0) return;
    const channel = msg[0]!;
    const data = msg.subarray(1);
    if (channel === STDIN) stdin?.write(Buffer.from(data));
    else if (channel === RESIZE) resize?.write(Buffer.from(data));
    else if (channel === CLOSE_CHANNEL) {
      if (data[0] === STDIN) stdin?.end();
      else if (data[0] === RESIZE) resize?.end();
    }
    if (session.bufferedBytes >= HIGH_WATER) ws.pause();
  });
  up.socket.on("drain", () => ws.resume());

  session.on("close", (err) => {
    if (err) log.warn({ err }, "remote command session with the runtime failed");
    // Everything the runtime sent is queued on the WebSocket before its close frame.
    if (ws.readyState === ws.OPEN) ws.close(1000);
  });
  ws.on("close", () => session.close());
  ws.on("error", () => session.close());
}

/** Port-forward tunnel: WebSocket messages at the client, the same bytes as SPDY at the runtime. */
export async function tunnelPortForward(req: IncomingMessage, client: Duplex, head: Buffer, target: URL, log: Logger): Promise<void> {
  const up = await upstreamOrAnswer(client, target, PORT_FORWARD_PROTOCOL, log);
  if (!up) return;
  if (client.destroyed) {
    up.socket.destroy();
    return;
  }
  req.headers["sec-websocket-protocol"] = TUNNEL_ALIAS;
  const ws = await acceptWebSocket(req, client, head);
  const wsStream = createWebSocketStream(ws);
  if (up.head.length > 0) wsStream.write(up.head);
  pipeBothWays(wsStream, up.socket);
}
