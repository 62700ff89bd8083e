/**
 * @module bench/applied-config
 * What the benchmark prices by, read from the Terraform state of the stack it runs on (`terraform
 * show -json`), so there is no second copy of it: each function's memory and architecture, each
 * worker pool's instance type, and each table's indexes.
 */
import { join } from "node:path";
import type { TableSchema } from "../core/pricing/dynamodb-units.ts";
import { runTerraform } from "../local/env/terraform.ts";

export interface AppliedConfig {
  /** Function key ("session", "update-processor") → its configuration. */
  functions: Record<string, { memoryMb: number; architecture: "arm64" | "x86_64" }>;
  /** Pool name → its instance type. */
  workerPools: Record<string, { instanceType: string }>;
  /** Table name → its keys and indexes. */
  tables: Map<string, TableSchema>;
}

interface StateResource {
  type: string;
  index?: string | number;
  values: Record<string, unknown>;
  address: string;
}

interface StateModule {
  address?: string;
  resources?: StateResource[];
  child_modules?: StateModule[];
}

function resources(module: StateModule): StateResource[] {
  return [...(module.resources ?? []), ...(module.child_modules ?? []).flatMap(resources)];
}

type IndexValues = {
  name: string;
  hash_key?: string;
  range_key?: string;
  projection_type: "ALL" | "KEYS_ONLY" | "INCLUDE";
  non_key_attributes?: string[] | null;
};

/** Parses `terraform show -json` output (exported for tests). */
export function appliedConfigFromState(state: { values?: { root_module?: StateModule } }): AppliedConfig {
  const config: AppliedConfig = { functions: {}, workerPools: {}, tables: new Map() };
  for (const resource of resources(state.values?.root_module ?? {})) {
    const v = resource.values;
    if (resource.type === "aws_lambda_function" && typeof resource.index === "string") {
      const architecture = ((v.architectures as string[] | undefined)?.[0] ?? "x86_64") as "arm64" | "x86_64";
      config.functions[resource.index] = { memoryMb: Number(v.memory_size), architecture };
    } else if (resource.type === "aws_launch_template") {
      // module.worker_pool["linux"].aws_launch_template.this
      const pool = /worker_pool\["([^"]+)"\]/.exec(resource.address)?.[1];
      if (pool) config.workerPools[pool] = { instanceType: String(v.instance_type) };
    } else if (resource.type === "aws_dynamodb_table") {
      const hashKey = String(v.hash_key);
      const index = (i: IndexValues, local: boolean) => ({
        name: i.name,
        hashKey: local ? hashKey : (i.hash_key ?? hashKey),
        rangeKey: i.range_key || undefined,
        projection: i.projection_type,
        nonKeyAttributes: i.non_key_attributes ?? [],
      });
      config.tables.set(String(v.name), {
        hashKey,
        rangeKey: (v.range_key as string | null) || undefined,
        indexes: [
          ...((v.local_secondary_index ?? []) as IndexValues[]).map((i) => index(i, true)),
          ...((v.global_secondary_index ?? []) as IndexValues[]).map((i) => index(i, false)),
        ],
      });
    }
  }
  return config;
}

/** The applied configuration of the stack whose Terraform directory is `terraformDir`. */
export async function readAppliedConfig(terraformDir: string): Promise<AppliedConfig> {
  const { code, stdout, stderr } = await runTerraform(
    ["show", "-json", "-no-color", join(terraformDir, "terraform.tfstate")],
    { workDir: terraformDir },
  );
  if (code !== 0) throw new Error(`terraform show failed (exit ${code}): ${stderr.slice(-2000)}`);
  return appliedConfigFromState(JSON.parse(stdout));
}
