// What the controller last wrote to each EndpointSlice (upstream EndpointSliceTracker): the
// generation of every slice it created or updated, and the slices it deleted. A sync whose
// cache does not show those writes yet would act on an old view (and, say, create a slice it
// already created), so it waits for the cache instead; a slice changed or deleted by someone
// else is noticed because its generation or disappearance was not expected.
import type { EndpointSlice } from "kubernetes-types/discovery/v1.js";
import type { DeepReadonly } from "../../client/objects.js";
import { SERVICE_NAME_LABEL } from "../../api/labels.js";

const DELETION_EXPECTED = -1;

type Slice = DeepReadonly<EndpointSlice> | EndpointSlice;

export { SERVICE_NAME_LABEL };

function serviceKeyOf(s: Slice): string | undefined {
  const svc = s.metadata?.labels?.[SERVICE_NAME_LABEL];
  return svc ? `${s.metadata?.namespace ?? ""}/${svc}` : undefined;
}

export class EndpointSliceTracker {
  /** service key → slice uid → generation (or DELETION_EXPECTED). */
  private readonly byService = new Map<string, Map<string, number>>();

  private gens(s: Slice, create: boolean): Map<string, number> | undefined {
    const key = serviceKeyOf(s);
    if (!key) return undefined;
    let m = this.byService.get(key);
    if (!m && create) this.byService.set(key, (m = new Map()));
    return m;
  }

  has(s: Slice): boolean {
    return this.gens(s, false)?.has(s.metadata?.uid ?? "") ?? false;
  }

  /** True unless the slice is at (or behind) the generation this controller wrote. */
  shouldSync(s: Slice): boolean {
    const g = this.gens(s, false)?.get(s.metadata?.uid ?? "");
    return g === undefined || (s.metadata?.generation ?? 0) > g;
  }

  /** Records a slice this controller created or updated, as the API returned it. */
  update(s: Slice): void {
    this.gens(s, true)?.set(s.metadata?.uid ?? "", s.metadata?.generation ?? 0);
  }

  expectDeletion(s: Slice): void {
    this.gens(s, true)?.set(s.metadata?.uid ?? "", DELETION_EXPECTED);
  }

  /** Forgets a deleted slice; false if this controller did not expect the deletion. */
  handleDeletion(s: Slice): boolean {
    const m = this.gens(s, false);
    const uid = s.metadata?.uid ?? "";
    const g = m?.get(uid);
    m?.delete(uid);
    if (m && m.size === 0) this.byService.delete(serviceKeyOf(s)!);
    return g === DELETION_EXPECTED;
  }

  deleteService(namespace: string, name: string): void {
    this.byService.delete(`${namespace}/${name}`);
  }

  /**
   * The cached slices of a service lag this controller's writes: a written slice is missing or
   * older than written, or a deleted one is still there.
   */
  staleSlices(namespace: string, name: string, slices: readonly Slice[]): boolean {
    const m = this.byService.get(`${namespace}/${name}`);
    if (!m) return false;
    const seen = new Set<string>();
    for (const s of slices) {
      const uid = s.metadata?.uid ?? "";
      seen.add(uid);
      const g = m.get(uid);
      if (g !== undefined && (g === DELETION_EXPECTED || g > (s.metadata?.generation ?? 0))) return true;
    }
    for (const [uid, g] of m) if (g !== DELETION_EXPECTED && !seen.has(uid)) return true;
    return false;
  }
}
