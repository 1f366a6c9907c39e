// @peculiar/x509 builds on tsyringe, which refuses to load unless the (never standardised)
// Reflect metadata API exists; its README asks for a polyfill imported before it. This is the
// part of that API tsyringe calls, installed only when no polyfill is present. Import
// @peculiar/x509 through ./x509.js, which loads this first. Swap for the `reflect-metadata` package if it becomes a
// dependency.
type MetadataTarget = object;
type MetadataStore = WeakMap<MetadataTarget, Map<string | symbol | undefined, Map<unknown, unknown>>>;

interface ReflectMetadata {
  getMetadata(key: unknown, target: MetadataTarget, property?: string | symbol): unknown;
  getOwnMetadata(key: unknown, target: MetadataTarget, property?: string | symbol): unknown;
  defineMetadata(key: unknown, value: unknown, target: MetadataTarget, property?: string | symbol): void;
}

const reflect = Reflect as typeof Reflect & Partial<ReflectMetadata>;

if (typeof reflect.getMetadata !== "function") {
  const store: MetadataStore = new WeakMap();
  const own = (key: unknown, target: MetadataTarget, property?: string | symbol): Map<unknown, unknown> | undefined =>
    store.get(target)?.get(property);
  const api: ReflectMetadata = {
    getOwnMetadata: (key, target, property) => own(key, target, property)?.get(key),
    getMetadata(key, target, property) {
      for (let t: MetadataTarget | null = target; t !== null; t = Object.getPrototypeOf(t) as MetadataTarget | null) {
        const values = own(key, t, property);
        if (values?.has(key)) return values.get(key);
      }
      return undefined;
    },
    defineMetadata(key, value, target, property) {
      let byProperty = store.get(target);
      if (!byProperty) store.set(target, (byProperty = new Map()));
      let values = byProperty.get(property);
      if (!values) byProperty.set(property, (values = new Map()));
      values.set(key, value);
    },
  };
  Object.assign(reflect, api);
}

export {};
