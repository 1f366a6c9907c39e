// The one way into @peculiar/x509 in this project: it needs the Reflect metadata polyfill
// loaded first (see reflect-metadata.ts), and ES modules evaluate imports in the order written.
import "./reflect-metadata.js";
export * from "@peculiar/x509";
