/**
 * @module test/helpers/terraform-config
 * The Terraform under terraform/ as HashiCorp's parser reads it (deploy/hcl.ts), for static
 * checks: each module's files, their blocks by type and name, and the raw text for comments.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { REPOSITORY_ROOT } from "../../deploy/environment.ts";
import { type HclDocument, readHcl } from "../../deploy/hcl.ts";

export const TERRAFORM_ROOT = join(REPOSITORY_ROOT, "terraform");

export interface TerraformFile {
  /** Path from the repository root, for messages. */
  path: string;
  /** terraform/ relative directory of its module ("." for the root). */
  module: string;
  text: string;
  document: HclDocument;
}

function tfFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (entry.startsWith(".")) return [];
    if (statSync(path).isDirectory()) return tfFiles(path);
    return entry.endsWith(".tf") ? [path] : [];
  });
}

/** Every .tf file under terraform/ (root, modules, bootstrap). */
export async function readTerraformFiles(): Promise<TerraformFile[]> {
  return Promise.all(
    tfFiles(TERRAFORM_ROOT).map(async (path) => ({
      path: relative(REPOSITORY_ROOT, path),
      module: relative(TERRAFORM_ROOT, join(path, "..")) || ".",
      text: readFileSync(path, "utf8"),
      document: await readHcl(path),
    })),
  );
}

/** Blocks of a two-label type (`resource "aws_x" "name"`) across files: "aws_x.name" → body. */
export function blocks(
  files: readonly TerraformFile[],
  kind: "resource" | "data",
): Array<{ file: TerraformFile; type: string; name: string; body: Record<string, unknown> }> {
  return files.flatMap((file) =>
    Object.entries(
      (file.document[kind] ?? {}) as Record<string, Record<string, Array<Record<string, unknown>>>>,
    ).flatMap(([type, named]) =>
      Object.entries(named).map(([name, [body]]) => ({ file, type, name, body: body ?? {} })),
    ),
  );
}

/** A root variable's default (terraform/variables.tf). */
export function rootVariableDefault(files: readonly TerraformFile[], name: string): unknown {
  for (const file of files.filter((f) => f.module === ".")) {
    const variable = (file.document.variable as Record<string, Array<Record<string, unknown>>> | undefined)?.[
      name
    ];
    if (variable) return variable[0]?.default;
  }
  throw new Error(`terraform/ declares no variable ${name}`);
}

/** The root's call of a module by its source directory ("modules/functions"): its arguments. */
export function moduleCall(files: readonly TerraformFile[], source: string): Record<string, unknown> {
  for (const file of files.filter((f) => f.module === ".")) {
    for (const [, [body]] of Object.entries(
      (file.document.module ?? {}) as Record<string, Array<Record<string, unknown>>>,
    )) {
      if (body?.source === `./${source}`) return body;
    }
  }
  throw new Error(`terraform/ calls no module ./${source}`);
}

/** How the parser writes an HCL expression: interpolation("var.x") is "${var.x}". */
export const interpolation = (expression: string): string => `\${${expression}}`;
