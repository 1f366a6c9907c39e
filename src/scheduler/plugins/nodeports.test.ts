import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Pod } from "kubernetes-types/core/v1.js";
import { makeNode, makePod, podInfo } from "../fixtures.js";
import { NodeInfo } from "../framework/nodeinfo.js";
import { newPodInfo } from "../framework/podinfo.js";
import { Code, CycleState } from "../framework/types.js";
import { NodePorts } from "./nodeports.js";

function withPorts(name: string, ports: { hostPort: number; hostIP?: string; protocol?: string }[], nodeName?: string): ReturnType<typeof newPodInfo> {
  const base = makePod(name, nodeName ? { nodeName } : {}) as Pod;
  const pod: Pod = { ...base, spec: { ...base.spec!, containers: [{ name: "c", image: "i", ports: ports.map((p) => ({ containerPort: 80, ...p })) }] } };
  return newPodInfo(pod);
}

describe("NodePorts", () => {
  const cases: { name: string; used: { hostPort: number; hostIP?: string; protocol?: string }[]; want: { hostPort: number; hostIP?: string; protocol?: string }[]; fits: boolean }[] = [
    { name: "free port", used: [{ hostPort: 80 }], want: [{ hostPort: 8080 }], fits: true },
    { name: "same port, wildcard both", used: [{ hostPort: 80 }], want: [{ hostPort: 80 }], fits: false },
    { name: "same port, other protocol", used: [{ hostPort: 53, protocol: "UDP" }], want: [{ hostPort: 53, protocol: "TCP" }], fits: true },
    { name: "same port, different specific addresses", used: [{ hostPort: 80, hostIP: "10.0.0.1" }], want: [{ hostPort: 80, hostIP: "10.0.0.2" }], fits: true },
    { name: "wildcard wanted, specific address used", used: [{ hostPort: 80, hostIP: "10.0.0.1" }], want: [{ hostPort: 80 }], fits: false },
    { name: "specific address wanted, wildcard used", used: [{ hostPort: 80 }], want: [{ hostPort: 80, hostIP: "10.0.0.1" }], fits: false },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const node = new NodeInfo(makeNode("n"));
      node.addPod(withPorts("existing", c.used, "n"));
      const pl = new NodePorts();
      const pod = withPorts("p", c.want);
      const state = new CycleState();
      assert.equal(pl.preFilter(state, pod).status, null);
      const s = pl.filter(state, pod, node);
      if (c.fits) assert.equal(s, null);
      else {
        assert.equal(s?.code, Code.Unschedulable);
        assert.deepEqual(s?.reasons, ["node(s) didn't have free ports for the requested pod ports"]);
      }
    });
  }

  it("skips pods without host ports; ports free up when the pod leaves", () => {
    const pl = new NodePorts();
    assert.equal(pl.preFilter(new CycleState(), podInfo("p")).status?.code, Code.Skip);
    const node = new NodeInfo(makeNode("n"));
    const existing = withPorts("existing", [{ hostPort: 80 }], "n");
    node.addPod(existing);
    node.removePod(existing.uid);
    assert.equal(pl.filter(new CycleState(), withPorts("p", [{ hostPort: 80 }]), node), null);
  });
});
