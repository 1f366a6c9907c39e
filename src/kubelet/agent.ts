// `k8ts agent`: the node. It runs (or dials) containerd, registers the Node and keeps its
// Lease, waits for the control plane to give it a podCIDR and writes the CNI network from
// it, then makes the pods bound to it (and the static pods of its manifest dir or URL) run,
// provisions node-local volumes for the claims scheduled to it (unless disabled), and serves
// logs/exec/port-forward on its HTTPS port. Each part is its own module; this file
// only wires them together, in the order their dependencies need, and stops them in reverse.
import { existsSync, readFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import type { Pod } from "kubernetes-types/core/v1.js";
import type { Taint } from "kubernetes-types/core/v1.js";
import { createClientFromKubeconfig, type RestClient } from "../client/rest.js";
import { SharedInformerFactory, type SharedInformer } from "../client/informer.js";
import { EventRecorder } from "../client/events.js";
import type { Logger } from "../util/log.js";
import { Containerd } from "./containerd.js";
import { CriClient } from "./cri/client.js";
import { cniConfDir, writeCniConfig, CNI_CONFIG_FILE } from "./cni.js";
import { ensurePodMasquerade } from "./masquerade.js";
import { ensureBuiltinImages } from "./images/import.js";
import { ensureDnsImageInChild } from "./images/dns-child.js";
import { DNS_IMAGE } from "./images/dns.js";
import { isMirrorPod, kubeletPaths, type KubeletPaths } from "./types.js";
import { NodeAgent } from "./node/index.js";
import { StaticPodSource } from "./config/static.js";
import { MirrorPods } from "./config/mirror.js";
import { ApiObjectSource } from "./objects.js";
import { Volumes } from "./volumes/index.js";
import { LocalPathProvisioner } from "./provisioner/index.js";
import { Prober } from "./probes/index.js";
import { PodLifecycle } from "./pods/index.js";
import { KubeletServer } from "./server/index.js";
import { ensureKubeletServingCert } from "./server/certs.js";
import { CodedError } from "../util/errors.js";
import { DEFAULT_CLUSTER_DOMAIN } from "../api/dns.js";

export class AgentError extends CodedError<"NoPodCIDR" | "Stopped" | "BadOption"> {
  override readonly name = "AgentError";
}

export interface AgentOptions {
  /** credentials and server: the agent is an API client like any other */
  kubeconfig: string;
  /** the API server's URL, instead of the kubeconfig's */
  server?: string;
  /** the agent keeps everything under <dataDir>/agent */
  dataDir: string;
  nodeName?: string;
  nodeIP?: string;
  /** a CRI endpoint to use instead of starting our own containerd */
  containerRuntimeEndpoint?: string;
  podManifestPath?: string;
  manifestUrl?: string;
  kubeletPort?: number;
  clusterDNS?: readonly string[];
  clusterDomain?: string;
  /** the cluster CA's cert and key: when given (embedded agent), the kubelet's serving cert is signed by it */
  caKeyDir?: string;
  labels?: Record<string, string>;
  taints?: Taint[];
  /** the cluster's pod range: pod traffic to anything outside it is masqueraded (default: the node's podCIDR) */
  clusterCIDR?: string;
  /** the pod network's Linux bridge (default cni0) and CNI network name (default k8ts) */
  cniBridge?: string;
  cniNetworkName?: string;
  /** top-level cgroup of the node's pods (default k8ts): pods live under /<root>/kubepods/pod<uid> */
  cgroupRoot?: string;
  /** no node-local provisioner (k8ts.io/local-path) and no local-path StorageClass: the cluster brings its own storage */
  disableLocalStorage?: boolean;
  /** how long start() waits for the control plane to assign a podCIDR */
  podCIDRTimeoutMs?: number;
  log: Logger;
}

export function defaultNodeName(): string {
  return hostname().toLowerCase();
}

export class Agent {
  readonly paths: KubeletPaths;
  readonly nodeName: string;
  private readonly log: Logger;
  private readonly stopping = new AbortController();
  private client: RestClient | undefined;
  private containerd: Containerd | undefined;
  private cri: CriClient | undefined;
  private events: EventRecorder | undefined;
  private node: NodeAgent | undefined;
  private objects: ApiObjectSource | undefined;
  private provisioner: LocalPathProvisioner | undefined;
  private prober: Prober | undefined;
  private lifecycle: PodLifecycle | undefined;
  private staticPods: StaticPodSource | undefined;
  private mirrors: MirrorPods | undefined;
  private server: KubeletServer | undefined;
  private informers: SharedInformerFactory | undefined;
  private networkReady = false;
  private staticUids = new Set<string>();

  private readonly port: number;
  private readonly podCIDRTimeoutMs: number;
  private readonly networkName: string;

  constructor(private readonly o: AgentOptions) {
    this.paths = kubeletPaths(o.dataDir);
    this.port = o.kubeletPort ?? 10250;
    this.podCIDRTimeoutMs = o.podCIDRTimeoutMs ?? 60_000;
    this.networkName = o.cniNetworkName ?? "k8ts";
    this.nodeName = o.nodeName ?? defaultNodeName();
    this.log = o.log.child({ component: "agent", node: this.nodeName });
  }

  /** The CRI endpoint the agent talks to. */
  get runtimeEndpoint(): string | undefined {
    return this.o.containerRuntimeEndpoint ?? this.containerd?.endpoint;
  }

  /** the node's address (known once start() registered the node) */
  get nodeIP(): string | undefined {
    return this.node?.nodeIP;
  }

  get kubeletPort(): number {
    return this.server?.port ?? this.port;
  }

  async start(): Promise<void> {
    try {
      await this.startParts();
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  private async startParts(): Promise<void> {
    const o = this.o;
    const log = this.log;
    const started = Date.now();
    const client = (this.client = await createClientFromKubeconfig(o.kubeconfig, { ...(o.server ? { server: o.server } : {}), userAgent: `k8ts-agent/${this.nodeName}`, qps: 50, burst: 100 }));

    if (!o.containerRuntimeEndpoint) {
      this.containerd = new Containerd({ dataDir: this.paths.root, logger: log });
      await this.containerd.start();
    }
    const cri = (this.cri = new CriClient({ endpoint: this.runtimeEndpoint! }));
    if (this.containerd) await ensureBuiltinImages(cri, { address: this.containerd.socket, archiveDir: join(this.paths.root, "images") });
    log.info({ ms: Date.now() - started }, "container runtime ready");

    const events = (this.events = EventRecorder.forClient(client, { component: "kubelet", host: this.nodeName, log }));
    this.networkReady = existsSync(join(cniConfDir(this.paths.root), CNI_CONFIG_FILE));
    const node = (this.node = new NodeAgent({
      client,
      nodeName: this.nodeName,
      ...(o.nodeIP ? { nodeIP: o.nodeIP } : {}),
      kubeletPort: this.port,
      ...(o.labels ? { labels: o.labels } : {}),
      ...(o.taints ? { taints: o.taints } : {}),
      cri,
      rootDir: this.paths.root,
      readiness: () => this.readiness(),
      events,
      log,
    }));
    await node.start();

    // The kubelet server first: `kubectl logs` must work as soon as a pod runs.
    const caPem = client.config.caPem ?? "";
    const ca = o.caKeyDir ? readCa(o.caKeyDir) : undefined;
    const tls = await ensureKubeletServingCert({ dir: join(this.paths.root, "tls"), nodeName: this.nodeName, addresses: [node.nodeIP, "127.0.0.1"], ...(ca ? { ca } : {}) });
    this.server = new KubeletServer({
      cri,
      nodeName: this.nodeName,
      paths: this.paths,
      port: this.port,
      bindAddress: "0.0.0.0",
      tls,
      clientCA: caPem,
      log,
      pods: () => this.lifecycle?.pods() ?? [],
    });
    await this.server.start();

    const timeout = AbortSignal.timeout(this.podCIDRTimeoutMs);
    let podCIDRs: string[];
    try {
      podCIDRs = await node.podCIDRs(AbortSignal.any([timeout, this.stopping.signal]));
    } catch {
      if (this.stopping.signal.aborted) throw new AgentError("Stopped", "agent stopped while waiting for a podCIDR");
      throw new AgentError("NoPodCIDR", `node ${this.nodeName} got no spec.podCIDRs within ${this.podCIDRTimeoutMs / 1000} s: is the node IPAM controller running (controller-manager --allocate-node-cidrs)?`);
    }
    await ensurePodMasquerade({ podCIDRs, ...(o.clusterCIDR ? { clusterCIDR: o.clusterCIDR } : {}), networkName: this.networkName });
    await writeCniConfig({ dataDir: this.paths.root, podCIDRs, ...(o.cniBridge ? { bridge: o.cniBridge } : {}), networkName: this.networkName });
    this.networkReady = true;
    node.requestStatusUpdate();
    log.info({ podCIDRs }, "pod network configured");

    // One set of cluster-wide informers for the objects pods refer to and the provisioner,
    // which watches the same claims and volumes.
    const clusterInformers = new SharedInformerFactory({ client, log, omitManagedFields: true });
    const objects = (this.objects = new ApiObjectSource({ client, log, informers: clusterInformers }));
    await objects.start();
    log.debug({ ms: Date.now() - started }, "object caches synced");
    if (!o.disableLocalStorage) {
      this.provisioner = new LocalPathProvisioner({ client, informers: clusterInformers, nodeName: this.nodeName, storageRoot: this.paths.storageRoot, log });
      await this.provisioner.start();
    }
    const volumes = new Volumes({ paths: this.paths, objects, nodeName: this.nodeName, log });
    const prober = (this.prober = new Prober({ cri, events, log }));
    // The cluster DNS image is built from this node's Node binary (seconds of CPU the first
    // time): in the background, so that the node is Ready without waiting for it; a pod that
    // wants it meanwhile waits for the build instead of pulling it from a registry that does not
    // exist (which failed with ErrImagePull and backed off).
    const dnsImage = this.containerd ? this.buildDnsImage(this.containerd, log) : undefined;
    const lifecycle = (this.lifecycle = new PodLifecycle({
      nodeIP: node.nodeIP,
      cri,
      client,
      events,
      paths: this.paths,
      volumes,
      probes: prober,
      objects,
      clusterDNS: o.clusterDNS ?? [],
      clusterDomain: o.clusterDomain ?? DEFAULT_CLUSTER_DOMAIN,
      cgroupParent: `/${o.cgroupRoot ?? "k8ts"}/kubepods`,
      log,
      builtinImages: { building: (image) => (image === DNS_IMAGE ? dnsImage?.() : undefined) },
    }));
    prober.onChange((uid) => lifecycle.resync(uid));

    // Pods bound to this node. Mirror pods are the API's view of our static pods, not work.
    const factory = (this.informers = new SharedInformerFactory({
      client,
      log,
      selectors: { fieldSelector: `spec.nodeName=${this.nodeName}` },
      omitManagedFields: true,
    }));
    const pods = factory.forKind("v1", "Pod") as SharedInformer<Pod>;
    factory.start(this.stopping.signal);
    if (!(await factory.waitForCacheSync(this.stopping.signal))) throw new AgentError("Stopped", "agent stopped before the pod cache synced");
    const apiPods = (pods.lister.list() as Pod[]).filter((p) => !isMirrorPod(p));
    log.debug({ ms: Date.now() - started }, "pod cache synced");

    // Static pods: the first read of the sources joins the initial set (so that start() keeps
    // their running containers); lists that come later, or a first one slower than 2 s, are
    // applied as changes once the lifecycle runs.
    let staticLatest: readonly Pod[] | undefined;
    let staticLive = false;
    if (o.podManifestPath || o.manifestUrl) {
      const mirrors = (this.mirrors = new MirrorPods({ client, nodeName: this.nodeName, log }));
      await mirrors.start();
      let firstRead: () => void = () => undefined;
      const read = new Promise<void>((r) => (firstRead = r));
      this.staticPods = new StaticPodSource({
        nodeName: this.nodeName,
        ...(o.podManifestPath ? { manifestPath: o.podManifestPath } : {}),
        ...(o.manifestUrl ? { manifestUrl: o.manifestUrl } : {}),
        log,
        onChange: (list) => {
          void mirrors.sync(list).catch((err: unknown) => log.warn({ err }, "mirror pods sync failed"));
          if (staticLive) this.onStaticPods(list);
          else staticLatest = list;
          firstRead();
        },
      });
      await this.staticPods.start();
      await Promise.race([read, new Promise((r) => setTimeout(r, 2000).unref())]);
    }
    const initialStatic = staticLatest ?? [];
    this.staticUids = new Set(initialStatic.map((p) => p.metadata!.uid!));
    // Every pod is registered with the object source before it is synced, so that the Secrets
    // and ConfigMaps it names are watched (one watch each, what the Node authorizer allows).
    for (const p of [...apiPods, ...initialStatic]) objects.registerPod(p);
    await lifecycle.start([...apiPods, ...initialStatic]);
    staticLive = true;
    if (staticLatest !== undefined && staticLatest !== initialStatic) this.onStaticPods(staticLatest);
    pods.addEventHandler({
      onAdd: (p) => {
        if (isMirrorPod(p as Pod)) return;
        objects.registerPod(p as Pod);
        lifecycle.update(p as Pod);
      },
      onUpdate: (_old, p) => {
        if (isMirrorPod(p as Pod)) return;
        objects.registerPod(p as Pod);
        lifecycle.update(p as Pod);
      },
      onDelete: (p) => {
        const pod = p as Pod;
        if (isMirrorPod(pod) || !pod.metadata?.uid) return;
        lifecycle.remove(pod.metadata.uid);
        objects.unregisterPod(pod.metadata.uid);
      },
    });
    // A configMap or secret a pod names, or a service, changed: pods of that namespace pick it up on a sync.
    objects.onChange((_kind, namespace) => {
      for (const p of pods.lister.namespace(namespace).list()) if (p.metadata?.uid) lifecycle.resync(p.metadata.uid);
    });
    log.info({ ms: Date.now() - started }, "agent running");
  }

  /**
   * Starts building and importing the cluster DNS image; the function returned gives, while the
   * build runs, a promise of whether it succeeded (undefined once it is over).
   */
  private buildDnsImage(containerd: Containerd, log: Logger): () => Promise<boolean> | undefined {
    let running: Promise<boolean> | undefined = ensureDnsImageInChild({ endpoint: containerd.endpoint, address: containerd.socket, archiveDir: join(this.paths.root, "images") }, this.stopping.signal).then(
      (r) => {
        if (r.imported) log.info({ image: r.reference }, "cluster DNS image imported");
        return true;
      },
      (err: unknown) => {
        if (!this.stopping.signal.aborted) log.warn({ err }, "the cluster DNS image could not be built");
        return false;
      },
    );
    void running.then(() => (running = undefined));
    return () => running;
  }

  private onStaticPods(list: readonly Pod[]): void {
    const lifecycle = this.lifecycle;
    if (!lifecycle) return;
    const next = new Set(list.map((p) => p.metadata!.uid!));
    for (const uid of this.staticUids) {
      if (next.has(uid)) continue;
      lifecycle.remove(uid);
      this.objects?.unregisterPod(uid);
    }
    for (const p of list) {
      this.objects?.registerPod(p);
      lifecycle.update(p);
    }
    this.staticUids = next;
  }

  private readiness(): { ready: boolean; reason: string; message: string } {
    if (this.containerd && !this.containerd.status().running) return { ready: false, reason: "KubeletNotReady", message: "container runtime is down" };
    if (!this.networkReady) return { ready: false, reason: "KubeletNotReady", message: "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized" };
    return { ready: true, reason: "KubeletReady", message: "kubelet is posting ready status" };
  }

  /** Stops every part; containers keep running (the next start adopts them). */
  async stop(): Promise<void> {
    this.stopping.abort();
    this.staticPods?.stop();
    await this.mirrors?.stop();
    await this.informers?.shutdown().catch(() => undefined);
    await this.lifecycle?.stop().catch((err: unknown) => this.log.warn({ err }, "stopping pod workers"));
    this.prober?.stop();
    await this.provisioner?.stop().catch((err: unknown) => this.log.warn({ err }, "stopping the local-path provisioner"));
    this.objects?.stop();
    await this.server?.stop().catch(() => undefined);
    await this.node?.stop().catch(() => undefined);
    await this.events?.shutdown().catch(() => undefined);
    this.cri?.close();
    this.client?.close();
    await this.containerd?.stop().catch((err: unknown) => this.log.warn({ err }, "stopping containerd"));
  }
}

function readCa(dir: string): { cert: string; key: string } | undefined {
  try {
    return { cert: readFileSync(join(dir, "ca.crt"), "utf8"), key: readFileSync(join(dir, "ca.key"), "utf8") };
  } catch {
    return undefined;
  }
}
