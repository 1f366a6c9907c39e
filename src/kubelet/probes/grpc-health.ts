// The standard gRPC health check (grpc.health.v1.Health/Check) as the kubelet's grpc probe
// makes it: connect within the timeout, call Check for the probe's service, healthy only when
// the answer is SERVING. The two messages are tiny, so they are encoded here by hand rather
// than loaded from a .proto file:
//
//   message HealthCheckRequest { string service = 1; }
//   message HealthCheckResponse { enum ServingStatus { UNKNOWN = 0; SERVING = 1; NOT_SERVING = 2; SERVICE_UNKNOWN = 3; } ServingStatus status = 1; }
import * as grpc from "@grpc/grpc-js";
import { goDuration, joinHostPort } from "./format.js";

export const HEALTH_CHECK_METHOD = "/grpc.health.v1.Health/Check";

export const SERVING_STATUS = ["UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN"] as const;
export type ServingStatus = (typeof SERVING_STATUS)[number];

function encodeVarint(n: number): Buffer {
  const out: number[] = [];
  let v = n >>> 0;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return Buffer.from(out);
}

/** Reads a varint at `pos`; undefined when the buffer ends inside it. */
function readVarint(buf: Buffer, pos: number): { value: number; next: number } | undefined {
  let value = 0;
  let shift = 0;
  for (let i = pos; i < buf.length && shift < 64; i++) {
    const b = buf[i]!;
    if (shift < 32) value += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if ((b & 0x80) === 0) return { value, next: i + 1 };
  }
  return undefined;
}

/** The wire form of HealthCheckRequest: field 1 (length-delimited) when the service is named. */
export function encodeHealthCheckRequest(service: string): Buffer {
  if (service === "") return Buffer.alloc(0);
  const bytes = Buffer.from(service, "utf8");
  return Buffer.concat([Buffer.from([0x0a]), encodeVarint(bytes.length), bytes]);
}

export function decodeHealthCheckRequest(buf: Buffer): string {
  let service = "";
  forEachField(buf, (field, wireType, value) => {
    if (field === 1 && wireType === 2 && Buffer.isBuffer(value)) service = value.toString("utf8");
  });
  return service;
}

export function encodeHealthCheckResponse(status: ServingStatus): Buffer {
  const n = SERVING_STATUS.indexOf(status);
  // proto3 leaves a field at its default (UNKNOWN = 0) off the wire.
  return n === 0 ? Buffer.alloc(0) : Buffer.concat([Buffer.from([0x08]), encodeVarint(n)]);
}

/** The status number of a HealthCheckResponse (0, UNKNOWN, when absent). */
export function decodeHealthCheckResponse(buf: Buffer): number {
  let status = 0;
  forEachField(buf, (field, wireType, value) => {
    if (field === 1 && wireType === 0 && typeof value === "number") status = value;
  });
  return status;
}

/** Walks the top-level fields of a protobuf message; unknown fields are skipped, as protobuf requires. */
function forEachField(buf: Buffer, visit: (field: number, wireType: number, value: number | Buffer) => void): void {
  let pos = 0;
  while (pos < buf.length) {
    const key = readVarint(buf, pos);
    if (!key) return;
    pos = key.next;
    const field = Math.floor(key.value / 8);
    const wireType = key.value & 7;
    if (wireType === 0) {
      const v = readVarint(buf, pos);
      if (!v) return;
      visit(field, wireType, v.value);
      pos = v.next;
    } else if (wireType === 2) {
      const len = readVarint(buf, pos);
      if (!len || len.next + len.value > buf.length) return;
      visit(field, wireType, buf.subarray(len.next, len.next + len.value));
      pos = len.next + len.value;
    } else if (wireType === 1) pos += 8;
    else if (wireType === 5) pos += 4;
    else return;
  }
}

/** gRPC status codes as Go's codes.Code prints them (upstream's messages embed these). */
const GO_CODE_NAMES: Record<number, string> = {
  0: "OK",
  1: "Canceled",
  2: "Unknown",
  3: "InvalidArgument",
  4: "DeadlineExceeded",
  5: "NotFound",
  6: "AlreadyExists",
  7: "PermissionDenied",
  8: "ResourceExhausted",
  9: "FailedPrecondition",
  10: "Aborted",
  11: "OutOfRange",
  12: "Unimplemented",
  13: "Internal",
  14: "Unavailable",
  15: "DataLoss",
  16: "Unauthenticated",
};

export interface GrpcHealthResult {
  readonly healthy: boolean;
  /** upstream's probe output: "service healthy", or why not */
  readonly message: string;
}

export interface GrpcHealthOptions {
  readonly host: string;
  readonly port: number;
  readonly service: string;
  readonly timeoutMs: number;
  readonly userAgent: string;
  readonly signal?: AbortSignal;
}

/**
 * One health check. Connecting and the call share the one timeout; a server that cannot be
 * reached within it is unhealthy ("timeout: failed to connect service ..."), as with upstream's
 * blocking dial.
 */
export async function grpcHealthCheck(o: GrpcHealthOptions): Promise<GrpcHealthResult> {
  const addr = joinHostPort(o.host, o.port);
  const timeout = goDuration(o.timeoutMs);
  const deadline = Date.now() + o.timeoutMs;
  const client = new grpc.Client(addr, grpc.credentials.createInsecure(), {
    "grpc.primary_user_agent": o.userAgent,
    // A probe is one attempt: no proxy from the environment, no transparent retries.
    "grpc.enable_http_proxy": 0,
    "grpc.enable_retries": 0,
    "grpc.initial_reconnect_backoff_ms": 100,
    "grpc.max_reconnect_backoff_ms": 500,
  });
  const onAbort = (): void => client.close();
  o.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    const connectError = await new Promise<Error | undefined>((resolve) => client.waitForReady(deadline, (err) => resolve(err)));
    if (connectError) {
      if (o.signal?.aborted) return { healthy: false, message: `error: failed to connect service at "${addr}": context canceled` };
      return { healthy: false, message: `timeout: failed to connect service "${addr}" within ${timeout}: context deadline exceeded` };
    }
    // Messages travel as objects: grpc-js takes a falsy message (an empty service, status 0) for none.
    const answer = await new Promise<{ err: grpc.ServiceError | null; status: number | undefined }>((resolve) => {
      client.makeUnaryRequest<{ service: string }, { status: number }>(
        HEALTH_CHECK_METHOD,
        (r) => encodeHealthCheckRequest(r.service),
        (b) => ({ status: decodeHealthCheckResponse(b) }),
        { service: o.service },
        new grpc.Metadata(),
        { deadline },
        (err, res) => resolve({ err, status: res?.status }),
      );
    });
    if (answer.err) {
      const e = answer.err;
      if (e.code === grpc.status.UNIMPLEMENTED) return { healthy: false, message: `this server does not implement the grpc health protocol (grpc.health.v1.Health): ${e.details}` };
      if (e.code === grpc.status.DEADLINE_EXCEEDED) return { healthy: false, message: `timeout: health rpc did not complete within ${timeout}` };
      return { healthy: false, message: `error: health rpc probe failed: rpc error: code = ${GO_CODE_NAMES[e.code] ?? `Code(${e.code})`} desc = ${e.details}` };
    }
    const status = answer.status ?? 0;
    if (status !== 1) return { healthy: false, message: `service unhealthy (responded with "${SERVING_STATUS[status] ?? String(status)}")` };
    return { healthy: true, message: "service healthy" };
  } finally {
    o.signal?.removeEventListener("abort", onAbort);
    client.close();
  }
}
