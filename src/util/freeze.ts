// Freezing parsed JSON all the way down: objects shared between readers (an informer's cache,
// the API server's watch cache) are frozen so that a reader that changes one fails loudly at
// the change instead of corrupting what every other reader sees.

/** Freezes a plain JSON value in place, all the way down, and returns it. A value already frozen is taken as frozen all the way down. */
export function freezeJson<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) freezeTree(value);
  return value;
}

// Index and for-in loops: Object.values allocated an array per object, and informers freeze
// every object of every event.
function freezeTree(value: object): void {
  Object.freeze(value);
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto === Array.prototype) {
    const a = value as readonly unknown[];
    for (let i = 0; i < a.length; i++) {
      const v = a[i];
      if (typeof v === "object" && v !== null && !Object.isFrozen(v)) freezeTree(v);
    }
  } else if (proto === Object.prototype || proto === null) {
    const o = value as Record<string, unknown>;
    for (const k in o) {
      const v = o[k];
      if (typeof v === "object" && v !== null && !Object.isFrozen(v)) freezeTree(v);
    }
  } else {
    for (const v of Object.values(value)) if (typeof v === "object" && v !== null && !Object.isFrozen(v)) freezeTree(v);
  }
}
