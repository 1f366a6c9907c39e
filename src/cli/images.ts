// `k8ts images import|build-builtin`: flag definitions and output; the work is in images-actions.ts.
import type { Command } from "commander";
import { defaultDataDir } from "./defaults.js";
import { buildBuiltin, importImages } from "./images-actions.js";

export function registerImagesCommands(program: Command): void {
  const images = program.command("images").description("images in the node's containerd (no registry needed)");

  images
    .command("import")
    .description("import image archives (OCI layout or `docker save` tar) into the node's containerd, where pods can use them")
    .argument("<files...>", "archive files")
    .option("--data-dir <dir>", "the node's data directory", defaultDataDir())
    .option("--address <socket>", "containerd socket (default <data-dir>/containerd/containerd.sock)")
    .action(async (files: string[], f: { dataDir: string; address?: string }) => {
      for (const r of await importImages({ files, dataDir: f.dataDir, ...(f.address ? { address: f.address } : {}) })) {
        process.stdout.write(r.references.length ? r.references.map((ref) => `imported ${ref} from ${r.file}\n`).join("") : `imported ${r.file} (no image names in it)\n`);
      }
    });

  images
    .command("build-builtin")
    .description(`build the images every node has (docker.io/library/busybox:1.35 and the pod sandbox image) from the host's busybox-static`)
    .option("--data-dir <dir>", "the node's data directory", defaultDataDir())
    .option("--output <dir>", "where to write the archives (default <data-dir>/agent/images, where the agent keeps them)")
    .option("--no-import", "only write the archives, even when the node's containerd is running")
    .option("--busybox <path>", "the static busybox to build from", "/bin/busybox")
    .action(async (f: { dataDir: string; output?: string; import: boolean; busybox: string }) => {
      const r = await buildBuiltin({ dataDir: f.dataDir, import: f.import, busyboxPath: f.busybox, ...(f.output ? { outputDir: f.output } : {}) });
      for (const a of r.archives) process.stdout.write(`built ${a.reference} (${a.id}) → ${a.file}\n`);
      for (const i of r.imported ?? []) process.stdout.write(`${i.imported ? "imported" : "already present"}: ${i.reference}\n`);
      if (r.notImported) process.stdout.write(`not imported: ${r.notImported}\n`);
    });
}
