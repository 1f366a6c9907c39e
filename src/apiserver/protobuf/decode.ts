// Decodes a Kubernetes protobuf request body into the JSON object Go's encoding/json would
// write for the same typed object, which is also what kubectl would have sent as JSON: the
// server then treats both the same. Decoding runs in two passes: the wire is read into
// accumulators (repeated occurrences of a message field merge, as the Go unmarshalers do),
// then each accumulator is rendered by Go's JSON rules: omitempty, pointers, nil slices and
// maps as null, and the custom renderings of Time, Quantity, IntOrString and raw JSON.
import { parseQuantity, QuantityError } from "../../api/quantity.js";
import { decodeEnvelope, hasProtobufMagic } from "./envelope.js";
import { ProtobufDecodeError } from "./errors.js";
import { messageDef, messageForKind, SchemaError, type FieldDef, type MessageDef, type ScalarType, type ValueType } from "./schema.js";
import { decodeUtf8, WireReader, WireType } from "./wire.js";

export { ProtobufDecodeError, type ProtobufDecodeErrorCode } from "./errors.js";
export { hasProtobufMagic } from "./envelope.js";

export const PROTOBUF_CONTENT_TYPE = "application/vnd.kubernetes.protobuf";

export interface DecodedObject {
  readonly apiVersion: string;
  readonly kind: string;
  /** The object as JSON, with apiVersion and kind set. */
  readonly object: Record<string, unknown>;
}

export interface DecodeOptions {
  /**
   * Used when the envelope leaves apiVersion or kind empty (upstream fills them from the
   * endpoint the same way).
   */
  readonly defaults?: { readonly apiVersion?: string; readonly kind?: string };
  /** Most JSON values the decoded object may have; beyond it the body is refused (TooLarge). Default: defaultMaxValues. */
  readonly maxValues?: number;
}

/** Messages inside messages (and objects inside RawExtensions) deeper than this are rejected. */
export const MAX_NESTING = 64;

/** Decodes a body that starts with the `k8s\0` envelope. Throws ProtobufDecodeError. */
export function decodeProtobufObject(body: Uint8Array, opts: DecodeOptions = {}): DecodedObject {
  return decodeAt(body, opts.defaults, 0, new Renderer(opts.maxValues ?? defaultMaxValues(body.length), body.length));
}

/**
 * One JSON value per body byte, plus room for the defaults Go writes into small objects.
 * Real objects stay far below it (a two-container Deployment: 0.17 values per byte; a packed integer
 * array, the densest form, 1 per byte).
 */
export function defaultMaxValues(bodyBytes: number): number {
  return 100_000 + bodyBytes;
}

function decodeAt(body: Uint8Array, defaults: DecodeOptions["defaults"], depth: number, renderer: Renderer): DecodedObject {
  if (depth > MAX_NESTING) throw new ProtobufDecodeError("TooDeep", `objects nested more than ${MAX_NESTING} deep`);
  const env = decodeEnvelope(body);
  const kind = env.kind || defaults?.kind || "";
  const apiVersion = env.apiVersion || defaults?.apiVersion || "";
  if (kind === "") throw new ProtobufDecodeError("MissingKind", "Object 'Kind' is missing in the protobuf envelope");
  if (apiVersion === "") throw new ProtobufDecodeError("MissingKind", "Object 'apiVersion' is missing in the protobuf envelope");
  const name = messageForKind(apiVersion, kind);
  if (name === undefined) throw new ProtobufDecodeError("UnknownKind", `no kind "${kind}" is registered for version "${apiVersion}" in protobuf`);
  const def = messageDef(name);
  const acc = newAcc();
  parseInto(acc, new WireReader(env.raw), def, depth + 1);
  const rendered = renderer.message(def, acc, depth + 1);
  if (typeof rendered !== "object" || rendered === null || Array.isArray(rendered)) {
    throw new ProtobufDecodeError("UnknownKind", `${apiVersion} ${kind} is not an object kind`);
  }
  return { apiVersion, kind, object: { kind, apiVersion, ...(rendered as Record<string, unknown>) } };
}

// ---- pass 1: wire to accumulators ----

type Scalar = string | number | boolean | Uint8Array;
type Stored = Scalar | Acc;
/** What a field holds: one value, the elements of a repeated field, or the entries of a map. */
type Slot = Stored | Stored[] | Map<string, Stored | undefined>;

interface Acc {
  /** Some occurrence of this message had a non-empty payload (Time tells zero from epoch by it). */
  hasData: boolean;
  /** Made on first field: empty messages are common (Go writes every non-pointer struct). */
  fields: Map<number, Slot> | undefined;
}

function newAcc(): Acc {
  return { hasData: false, fields: undefined };
}

/** Shared by every empty payload; frozen so a merge can never write into it. */
const EMPTY: Acc = Object.freeze(newAcc());

function slot(acc: Acc, n: number): Slot | undefined {
  return acc.fields?.get(n);
}

function setSlot(acc: Acc, n: number, v: Slot): void {
  (acc.fields ??= new Map()).set(n, v);
}

function isAcc(v: Slot | undefined): v is Acc {
  return v !== undefined && typeof v === "object" && !(v instanceof Uint8Array) && !Array.isArray(v) && !(v instanceof Map);
}

/** Go's custom unmarshalers for these replace the value on every occurrence instead of merging. */
const REPLACED_ON_REPEAT: ReadonlySet<string | undefined> = new Set(["time", "microtime", "quantity"]);

function parseInto(acc: Acc, r: WireReader, def: MessageDef, depth: number): void {
  if (depth > MAX_NESTING) throw new ProtobufDecodeError("TooDeep", `messages nested more than ${MAX_NESTING} deep`);
  if (!r.done) acc.hasData = true;
  while (!r.done) {
    const tag = r.readTag();
    const f = def.byNumber.get(tag.field);
    if (f === undefined) {
      r.skip(tag);
      continue;
    }
    if (f.shape === "map") {
      expectWire(def, f, tag.wire, WireType.LengthDelimited);
      const [key, value] = readMapEntry(r.readMessage(), def, f, depth);
      let m = slot(acc, f.number) as Map<string, Stored | undefined> | undefined;
      if (!m) setSlot(acc, f.number, (m = new Map()));
      m.set(key, value);
    } else if (f.shape === "repeated") {
      let list = slot(acc, f.number) as Stored[] | undefined;
      if (!list) setSlot(acc, f.number, (list = []));
      if (tag.wire === WireType.LengthDelimited && isPackable(f.type)) {
        const packed = r.readMessage();
        while (!packed.done) list.push(readScalar(packed, f.type as ScalarType));
      } else {
        expectWire(def, f, tag.wire, wireTypeOf(f.type));
        list.push(readValue(r, f.type, undefined, depth));
      }
    } else {
      expectWire(def, f, tag.wire, wireTypeOf(f.type));
      setSlot(acc, f.number, readValue(r, f.type, slot(acc, f.number) as Stored | undefined, depth));
    }
  }
}

function readMapEntry(r: WireReader, def: MessageDef, f: FieldDef, depth: number): [string, Stored | undefined] {
  let key = "";
  let value: Stored | undefined;
  while (!r.done) {
    const tag = r.readTag();
    if (tag.field === 1) {
      expectWire(def, f, tag.wire, WireType.LengthDelimited);
      key = r.readString();
    } else if (tag.field === 2) {
      expectWire(def, f, tag.wire, wireTypeOf(f.type));
      value = readValue(r, f.type, value, depth);
    } else r.skip(tag);
  }
  return [key, value];
}

function readValue(r: WireReader, type: ValueType, previous: Stored | undefined, depth: number): Stored {
  if (typeof type === "string") return readScalar(r, type);
  const def = messageDef(type.message);
  const sub = r.readMessage();
  const merge = isAcc(previous) && !REPLACED_ON_REPEAT.has(def.render);
  if (sub.done) return merge ? previous : EMPTY;
  const target = merge && previous !== EMPTY ? previous : newAcc();
  parseInto(target, sub, def, depth + 1);
  return target;
}

function readScalar(r: WireReader, type: ScalarType): Scalar {
  switch (type) {
    case "str":
      return r.readString();
    case "bytes":
      return r.readBytes();
    case "bool":
      return r.readBool();
    case "i32":
      return r.readInt32();
    case "i64":
      return r.readInt64();
    case "f64":
      return r.readDouble();
  }
}

function isPackable(type: ValueType): boolean {
  return type === "bool" || type === "i32" || type === "i64" || type === "f64";
}

function wireTypeOf(type: ValueType): number {
  if (type === "bool" || type === "i32" || type === "i64") return WireType.Varint;
  if (type === "f64") return WireType.Fixed64;
  return WireType.LengthDelimited;
}

function expectWire(def: MessageDef, f: FieldDef, got: number, want: number): void {
  if (got !== want) throw new ProtobufDecodeError("Malformed", `proto: wrong wireType = ${got} for field ${def.name}.${f.json || f.number}`);
}

// ---- pass 2: accumulators to Go's JSON ----

const OMIT = Symbol("omit");
type Rendered = unknown;

/**
 * Renders accumulators and counts every JSON value it makes against a budget: Go writes
 * every non-pointer struct, so a 2-byte empty element can stand for a dozen values, and a
 * body of such elements would otherwise expand far past anything its JSON form could carry.
 */
class Renderer {
  private remaining: number;

  constructor(
    private readonly limit: number,
    private readonly bodyBytes: number,
  ) {
    this.remaining = limit;
  }

  private spend(n: number): void {
    this.remaining -= n;
    if (this.remaining < 0) {
      throw new ProtobufDecodeError("TooLarge", `the ${this.bodyBytes}-byte protobuf body decodes to more than ${this.limit} JSON values`);
    }
  }

  message(def: MessageDef, acc: Acc, depth: number): Rendered {
    this.spend(1);
    if (def.render !== undefined) return this.special(def, acc, depth);
    const out: Record<string, unknown> = {};
    for (const f of def.fields) {
      if (f.inline) {
        if (f.shape !== "single" || typeof f.type === "string") continue;
        const stored = slot(acc, f.number);
        if (f.pointer && stored === undefined) continue;
        const inner = this.message(messageDef(f.type.message), accOf(stored), depth + 1);
        if (typeof inner === "object" && inner !== null) Object.assign(out, inner);
        continue;
      }
      const v = this.field(f, acc, depth);
      if (v !== OMIT) out[f.json] = v;
    }
    return out;
  }

  private field(f: FieldDef, acc: Acc, depth: number): Rendered | typeof OMIT {
    const nil = f.always ? null : OMIT;
    const stored = slot(acc, f.number);
    if (f.shape === "repeated") {
      const list = stored as Stored[] | undefined;
      if (list === undefined || list.length === 0) return nil;
      this.spend(1 + list.length);
      return list.map((v) => this.value(f.type, v, depth));
    }
    if (f.shape === "map") {
      const m = stored as Map<string, Stored | undefined> | undefined;
      if (m === undefined || m.size === 0) return nil;
      this.spend(1 + m.size);
      const obj: Record<string, unknown> = {};
      // Go writes map keys sorted; defineProperty keeps a key like "__proto__" an ordinary key.
      for (const key of [...m.keys()].sort()) {
        Object.defineProperty(obj, key, { value: this.value(f.type, m.get(key), depth), enumerable: true, writable: true, configurable: true });
      }
      return obj;
    }
    const one = stored as Stored | undefined;
    if (typeof f.type === "string") {
      if (f.type === "bytes") {
        // A []byte is nil when absent, empty (not nil) when present with no bytes.
        if (one === undefined) return nil;
        const b = one as Uint8Array;
        if (b.length === 0 && !f.always) return OMIT;
        return base64(b);
      }
      if (f.pointer) return one === undefined ? nil : checkNumber(one);
      const v = one ?? zeroOf(f.type);
      if (!f.always && (v === "" || v === 0 || v === false)) return OMIT;
      return checkNumber(v);
    }
    const def = messageDef(f.type.message);
    if (def.render === "items") {
      const items = this.special(def, accOf(one), depth);
      return items === null ? nil : items;
    }
    if (f.pointer) return one === undefined ? nil : this.message(def, accOf(one), depth + 1);
    const inner = accOf(one);
    if (f.omitZero && isZeroStruct(def, inner)) return OMIT;
    return this.message(def, inner, depth + 1);
  }

  /** An element of a repeated field or a map value (a missing map value is Go's zero value). */
  private value(type: ValueType, v: Stored | undefined, depth: number): Rendered {
    if (typeof type === "string") {
      if (type === "bytes") return v === undefined ? null : base64(v as Uint8Array);
      return checkNumber(v ?? zeroOf(type));
    }
    return this.message(messageDef(type.message), accOf(v), depth + 1);
  }

  private special(def: MessageDef, acc: Acc, depth: number): Rendered {
    switch (def.render) {
      case "time":
      case "microtime": {
        const micro = def.render === "microtime";
        const t = timeParts(acc, micro);
        return t === null ? null : formatTime(t.seconds, t.nanos, micro);
      }
      case "duration":
        return formatGoDuration(BigInt(numberField(acc, 1)));
      case "quantity": {
        const s = slot(acc, 1);
        if (typeof s !== "string") return "0";
        try {
          return parseQuantity(s).toString();
        } catch (err) {
          if (err instanceof QuantityError) throw new ProtobufDecodeError("Malformed", `quantity "${s}": ${err.message}`);
          throw err;
        }
      }
      case "intorstring": {
        const type = numberField(acc, 1);
        if (type === 0) return numberField(acc, 2);
        if (type === 1) {
          const s = slot(acc, 3);
          return typeof s === "string" ? s : "";
        }
        throw new ProtobufDecodeError("Malformed", `impossible IntOrString.Type ${type}`);
      }
      case "json": {
        const raw = slot(acc, 1);
        if (!(raw instanceof Uint8Array) || raw.length === 0) return null;
        if (hasProtobufMagic(raw)) return decodeAt(raw, undefined, depth + 1, this).object;
        this.spend(raw.length);
        try {
          return JSON.parse(decodeUtf8(raw)) as unknown;
        } catch (err) {
          throw new ProtobufDecodeError("Malformed", `${def.name} holds neither JSON nor a protobuf object: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
      case "items": {
        const f = def.fields[0];
        const list = f ? (slot(acc, f.number) as Stored[] | undefined) : undefined;
        if (!f || list === undefined || list.length === 0) return null;
        this.spend(list.length);
        return list.map((v) => this.value(f.type, v, depth));
      }
      default:
        throw new SchemaError("BadFact", `${def.name}: no rendering`);
    }
  }
}

function accOf(v: Slot | undefined): Acc {
  return isAcc(v) ? v : EMPTY;
}

function zeroOf(type: ScalarType): Scalar {
  switch (type) {
    case "str":
      return "";
    case "bool":
      return false;
    case "bytes":
      return new Uint8Array(0);
    default:
      return 0;
  }
}

function checkNumber(v: Stored): Rendered {
  if (typeof v === "number" && !Number.isFinite(v)) throw new ProtobufDecodeError("Malformed", `unsupported value: ${v}`);
  return v;
}

function base64(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("base64");
}

function isZeroStruct(def: MessageDef, acc: Acc): boolean {
  if (def.render === "time") return timeParts(acc, false) === null;
  if (def.render === "microtime") return timeParts(acc, true) === null;
  return acc.fields === undefined || acc.fields.size === 0;
}

function numberField(acc: Acc, n: number): number {
  const v = slot(acc, n);
  return typeof v === "number" ? v : 0;
}

/** Seconds at Go's zero time.Time (0001-01-01T00:00:00Z), which Go writes as null. */
const GO_ZERO_TIME_SECONDS = -62135596800;

/**
 * Seconds and nanoseconds as Go's unmarshalers leave them, or null for Go's zero time. An
 * empty payload is the zero time; metav1.Time drops nanoseconds, MicroTime truncates them to
 * microseconds and normalizes them into [0, 1e9) as time.Unix does.
 */
function timeParts(acc: Acc, micro: boolean): { seconds: number; nanos: number } | null {
  if (!acc.hasData) return null;
  let seconds = numberField(acc, 1);
  let nanos = 0;
  if (micro) {
    const raw = numberField(acc, 2);
    nanos = raw - (raw % 1000);
    if (nanos < 0 || nanos >= 1e9) {
      seconds += Math.floor(nanos / 1e9);
      nanos = ((nanos % 1e9) + 1e9) % 1e9;
    }
  }
  if (seconds === GO_ZERO_TIME_SECONDS && nanos === 0) return null;
  return { seconds, nanos };
}

/** RFC 3339 in UTC as Go's time.RFC3339 (seconds) or metav1's RFC3339Micro layout. */
function formatTime(seconds: number, nanos: number, micro: boolean): string {
  const ms = seconds * 1000;
  const d = new Date(ms);
  const year = d.getUTCFullYear();
  if (!Number.isSafeInteger(ms) || Number.isNaN(d.getTime()) || year < 0 || year > 9999) {
    throw new ProtobufDecodeError("Malformed", `time ${seconds}s is outside years 0000-9999`);
  }
  const base = d.toISOString().slice(0, 19);
  return micro ? `${base}.${String(Math.trunc(nanos / 1000)).padStart(6, "0")}Z` : `${base}Z`;
}

/** Go's time.Duration.String(): "1h2m3.5s", "1.5ms", "0s". */
export function formatGoDuration(ns: bigint): string {
  ns = BigInt.asIntN(64, ns);
  if (ns === 0n) return "0s";
  const neg = ns < 0n;
  let u = neg ? -ns : ns;
  let out: string;
  if (u < 1_000_000_000n) {
    let unit: string;
    let prec: number;
    if (u < 1000n) {
      return `${neg ? "-" : ""}${u}ns`;
    } else if (u < 1_000_000n) {
      unit = "µs";
      prec = 3;
    } else {
      unit = "ms";
      prec = 6;
    }
    const [whole, frac] = fraction(u, prec);
    out = `${whole}${frac}${unit}`;
  } else {
    const [secs, frac] = fraction(u, 9);
    u = secs;
    out = `${u % 60n}${frac}s`;
    u /= 60n;
    if (u > 0n) {
      out = `${u % 60n}m${out}`;
      u /= 60n;
      if (u > 0n) out = `${u}h${out}`;
    }
  }
  return neg ? `-${out}` : out;
}

/** Splits v into v / 10^prec and ".digits" without trailing zeros ("" when they are all zero). */
function fraction(v: bigint, prec: number): [bigint, string] {
  const scale = 10n ** BigInt(prec);
  const digits = (v % scale).toString().padStart(prec, "0").replace(/0+$/, "");
  return [v / scale, digits === "" ? "" : `.${digits}`];
}
