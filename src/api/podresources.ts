// How a pod's containers add up to what the pod asks for, as upstream's resourcehelper
// PodRequests and PodLimits add them: the containers together; init containers one at a time,
// each beside the restartable init containers ("sidecars") started before it; sidecars
// beside everything started after them; the pod asks for whichever of the two is more. The
// scheduler adds up requests as numbers, ResourceQuota and LimitRanger requests and limits as
// quantities: the same walk over different sums.

/** A sum of resources: `add` and `max` change `to` in place. */
export interface ResourceSum<R> {
  zero(): R;
  add(to: R, from: R): void;
  /** Each resource of `to` at least what `from` has of it. */
  max(to: R, from: R): void;
}

interface ContainerLike {
  readonly restartPolicy?: string;
}

export function sumPodResources<C extends ContainerLike, R>(
  spec: { readonly containers?: readonly C[]; readonly initContainers?: readonly C[] } | undefined,
  of: (c: C) => R,
  sum: ResourceSum<R>,
): R {
  const total = sum.zero();
  for (const c of spec?.containers ?? []) sum.add(total, of(c));
  const inits = spec?.initContainers ?? [];
  if (inits.length === 0) return total;
  const sidecars = sum.zero();
  const initPeak = sum.zero();
  for (const c of inits) {
    const r = of(c);
    if (c.restartPolicy === "Always") {
      sum.add(total, r);
      sum.add(sidecars, r);
      sum.max(initPeak, sidecars);
    } else {
      const during = sum.zero();
      sum.add(during, sidecars);
      sum.add(during, r);
      sum.max(initPeak, during);
    }
  }
  sum.max(total, initPeak);
  return total;
}
