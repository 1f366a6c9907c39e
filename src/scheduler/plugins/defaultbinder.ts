// DefaultBinder: writes the decision through pods/binding, which sets spec.nodeName and the
// PodScheduled=True condition in one step (and refuses a pod that is already bound).
import type { SchedulerApi } from "../api.js";
import type { PodInfo } from "../framework/podinfo.js";
import { Status, type BindPlugin, type CycleState } from "../framework/types.js";
import { DEFAULT_BINDER } from "./names.js";

export class DefaultBinder implements BindPlugin {
  readonly name = DEFAULT_BINDER;

  constructor(private readonly api: SchedulerApi) {}

  async bind(_state: CycleState, pod: PodInfo, nodeName: string, signal: AbortSignal): Promise<Status | null> {
    try {
      await this.api.bind(pod.namespace, pod.name, pod.pod.metadata?.uid, nodeName, signal);
      return null;
    } catch (err) {
      return Status.error(err, DEFAULT_BINDER);
    }
  }
}
