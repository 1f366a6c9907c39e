// An EventSink that remembers what it was told, for assertions (client-go's FakeRecorder).
import type { KubeObject } from "../../client/objects.js";
import type { EventSink } from "../context.js";

export interface RecordedEvent {
  readonly type: "Normal" | "Warning";
  readonly reason: string;
  readonly message: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
}

export class RecordingEventSink implements EventSink {
  readonly events: RecordedEvent[] = [];

  event(obj: Readonly<KubeObject>, type: "Normal" | "Warning", reason: string, message: string): void {
    const m = obj.metadata;
    this.events.push({ type, reason, message, kind: obj.kind ?? "", namespace: m?.namespace ?? "", name: m?.name ?? "", uid: m?.uid ?? "" });
  }

  /** `Type Reason Message` per event, as client-go's FakeRecorder prints them. */
  lines(): string[] {
    return this.events.map((e) => `${e.type} ${e.reason} ${e.message}`);
  }

  clear(): void {
    this.events.length = 0;
  }
}
