// The one way into @peculiar/x509 in this project: it needs the Reflect metadata polyfill
// loaded first, and ES modules evaluate imports in the order written.
import "reflect-metadata";
export * from "@peculiar/x509";
