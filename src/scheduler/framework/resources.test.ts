import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { makePod } from "../fixtures.js";
import { formatBytes, formatMilliCPU, isScalarResourceName, podRequests, quantityMilliValue, quantityValue } from "./resources.js";

describe("resources", () => {
  it("parses quantities as upstream's Value/MilliValue (rounded up)", () => {
    assert.equal(quantityMilliValue("100m"), 100);
    assert.equal(quantityMilliValue("1.5"), 1500);
    assert.equal(quantityMilliValue("0.0001"), 1);
    assert.equal(quantityValue("1Gi"), 1024 ** 3);
    assert.equal(quantityValue("1.5k"), 1500);
    assert.equal(quantityValue("0.5"), 1);
  });

  it("names scalar resources as upstream", () => {
    assert.equal(isScalarResourceName("nvidia.com/gpu"), true);
    assert.equal(isScalarResourceName("hugepages-2Mi"), true);
    assert.equal(isScalarResourceName("kubernetes.io/something"), false);
    assert.equal(isScalarResourceName("cpu"), false);
  });

  it("sums containers, takes the init peak (sidecars accumulate), adds overhead; non-zero defaults for scoring", () => {
    const pod = makePod("p", {
      cpu: "500m",
      initContainers: [
        { name: "side", restartPolicy: "Always", resources: { requests: { cpu: "200m" } } },
        { name: "init", resources: { requests: { cpu: "1", memory: "1Gi" } } },
      ],
      spec: { overhead: { cpu: "50m" } },
    });
    const r = podRequests(pod);
    // containers 500m + sidecar 200m = 700m; init peak: 1000m + sidecar 200m = 1200m; + overhead.
    assert.equal(r.milliCPU, 1250);
    assert.equal(r.memory, 1024 ** 3);
    const nz = podRequests(makePod("empty"), true);
    assert.equal(nz.milliCPU, 100);
    assert.equal(nz.memory, 200 * 1024 * 1024);
  });

  it("formats amounts for people", () => {
    assert.equal(formatMilliCPU(1500), "1500m");
    assert.equal(formatMilliCPU(2000), "2");
    assert.equal(formatBytes(1536 * 1024 * 1024), "1.5Gi");
    assert.equal(formatBytes(512 * 1024 * 1024), "512Mi");
  });
});
