// Controllers against a real API server, for their integration tests: a test API server, an
// unthrottled client, one shared informer factory and recording events, the controllers made
// from that context running with their workers, and one stop that ends them all in order.
import { Registry } from "prom-client";
import { newControllerMetrics } from "../client/controller.js";
import { SharedInformerFactory } from "../client/informer.js";
import { createClientFromKubeconfig, type RestClient } from "../client/rest.js";
import { startTestApiServer, type TestApiServer } from "./apiserver.js";
import { createLogger } from "../util/log.js";
import type { Controller, ControllerContext } from "../controllers/context.js";
import { RecordingEventSink } from "../controllers/testing/events.js";

export interface ControllersAgainstApiServer {
  readonly srv: TestApiServer;
  readonly client: RestClient;
  readonly informers: SharedInformerFactory;
  readonly events: RecordingEventSink;
  readonly registry: Registry;
  /** Stops the controllers, then the informers, the client and the server. */
  stop(): Promise<void>;
}

/** Starts an API server and runs the controllers `make` builds (each with its worker count) against it. */
export async function runControllersAgainstApiServer(make: (ctx: ControllerContext) => readonly (readonly [Controller, number])[]): Promise<ControllersAgainstApiServer> {
  const srv = await startTestApiServer();
  const client = await createClientFromKubeconfig(srv.kubeconfig, { qps: Infinity });
  // K8TS_TEST_LOG=info shows the controllers' logs.
  const log = createLogger((process.env["K8TS_TEST_LOG"] as "info" | undefined) ?? "silent");
  const informers = new SharedInformerFactory({ client, log });
  const registry = new Registry();
  const events = new RecordingEventSink();
  const ac = new AbortController();
  const controllers = make({ client, informers, events, log, metrics: newControllerMetrics(registry), registry });
  informers.start(ac.signal);
  const runs = controllers.map(([c, workers]) => c.run(ac.signal, workers));
  return {
    srv,
    client,
    informers,
    events,
    registry,
    async stop() {
      ac.abort();
      await Promise.all(runs);
      await informers.shutdown();
      client.close();
      await srv.stop();
    },
  };
}
