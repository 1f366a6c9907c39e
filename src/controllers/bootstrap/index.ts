// The controller-manager's factories for the bootstrap token controllers: the bootstrap signer
// ("bootstrap-signer-controller") and the token cleaner ("token-cleaner-controller"). Upstream
// runs them only when told (kubeadm turns both on); k8ts runs them by default, since its nodes
// join with bootstrap tokens.
import { runController } from "../../client/controller.js";
import type { Controller, ControllerContext } from "../context.js";
import { BOOTSTRAP_SIGNER_CONTROLLER, BootstrapSigner } from "./bootstrapsigner.js";
import { TOKEN_CLEANER_CONTROLLER, TokenCleaner } from "./tokencleaner.js";

export { BOOTSTRAP_SIGNER_CONTROLLER, BootstrapSigner, CLUSTER_INFO_KEY, signedData, signingToken } from "./bootstrapsigner.js";
export { TOKEN_CLEANER_CONTROLLER, TokenCleaner, isBootstrapTokenSecret, tokenExpiry } from "./tokencleaner.js";

/** Both keep one queue that one worker serves, as upstream (neither has a concurrency flag). */
export const BOOTSTRAP_SIGNER_WORKERS = 1;
export const TOKEN_CLEANER_WORKERS = 1;

export function bootstrapSignerController(ctx: ControllerContext): Controller {
  const configMaps = ctx.informers.forKind("v1", "ConfigMap");
  const secrets = ctx.informers.forKind("v1", "Secret");
  const c = new BootstrapSigner({ api: ctx.client, configMaps: configMaps.lister, secrets: secrets.lister, log: ctx.log.child({ controller: BOOTSTRAP_SIGNER_CONTROLLER }) });
  configMaps.addEventHandler({ onAdd: (cm) => c.configMapChanged(cm), onUpdate: (_old, cm) => c.configMapChanged(cm) });
  secrets.addEventHandler({ onAdd: (s) => c.secretChanged(s), onUpdate: (_old, s) => c.secretChanged(s), onDelete: (s) => c.secretChanged(s) });
  return {
    name: BOOTSTRAP_SIGNER_CONTROLLER,
    async run(signal, workers) {
      if (!(await configMaps.waitForSync(signal)) || !(await secrets.waitForSync(signal))) return;
      await runController({ name: BOOTSTRAP_SIGNER_CONTROLLER, queue: c.queue, workers, sync: (key, s, l) => c.sync(key, s, l), log: ctx.log, signal, metrics: ctx.metrics });
    },
  };
}

export function tokenCleanerController(ctx: ControllerContext): Controller {
  const secrets = ctx.informers.forKind("v1", "Secret");
  const c = new TokenCleaner({ api: ctx.client, secrets: secrets.lister, log: ctx.log.child({ controller: TOKEN_CLEANER_CONTROLLER }) });
  secrets.addEventHandler({ onAdd: (s) => c.secretChanged(s), onUpdate: (_old, s) => c.secretChanged(s) });
  return {
    name: TOKEN_CLEANER_CONTROLLER,
    async run(signal, workers) {
      if (!(await secrets.waitForSync(signal))) return;
      await runController({ name: TOKEN_CLEANER_CONTROLLER, queue: c.queue, workers, sync: (key, s, l) => c.sync(key, s, l), log: ctx.log, signal, metrics: ctx.metrics });
    },
  };
}
