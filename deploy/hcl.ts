/**
 * @module deploy/hcl
 * Reads HCL files (tfvars, Terraform and Packer configuration) as JSON with HashiCorp's own
 * parser (@cdktf/hcl2json: HCL's Go parser compiled to WebAssembly). Expressions stay strings
 * ("${var.x}"); literal values come back as JSON values.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

// Loaded without its type declarations: they pull in the DOM's globals (`/// <reference
// lib="dom" />`), whose fetch types then clash with Node's across the whole project.
const { parse } = createRequire(import.meta.url)("@cdktf/hcl2json") as {
  parse(fileName: string, text: string): Promise<unknown>;
};

/** A parsed HCL file: block types and attributes as hcl2json returns them. */
export type HclDocument = Record<string, unknown>;

export async function readHcl(path: string): Promise<HclDocument> {
  return (await parse(path, readFileSync(path, "utf8"))) as HclDocument;
}

/** The blocks of one labelled type, e.g. `variable "x" {}` → { x: [body] } → { x: body }. */
export function labelledBlocks(document: HclDocument, type: string): Record<string, Record<string, unknown>> {
  const blocks = (document[type] ?? {}) as Record<string, Array<Record<string, unknown>>>;
  return Object.fromEntries(Object.entries(blocks).map(([label, [body]]) => [label, body ?? {}]));
}
