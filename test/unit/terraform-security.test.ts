/**
 * Security rules of the Terraform, checked statically on every .tf under terraform/ (read with
 * HashiCorp's parser, test/helpers/terraform-config.ts):
 * - IAM: no Allow statement with a wildcard action; a "*" resource only with a reason beside it
 *   (a `# Resource "*": <why>` comment just above);
 * - every bucket's policy denies requests without TLS (aws:SecureTransport = false);
 * - every SNS topic is encrypted with KMS, and the update topic traces with X-Ray;
 * - the update processor has reserved concurrency; the API stage throttles per route;
 * - workers get Session Manager's exact actions, not the AmazonSSMManagedInstanceCore policy,
 *   and exactly the Auto Scaling actions for their own group; their CloudWatch agent gets the
 *   Logs actions on their own pool's log group and the X-Ray actions it relays with, not the
 *   CloudWatchAgentServerPolicy.
 */
import test from "ava";
import routesFile from "../../handlers/routes.json" with { type: "json" };
import {
  blocks,
  interpolation,
  moduleCall,
  readTerraformFiles,
  rootVariableDefault,
  type TerraformFile,
} from "../helpers/terraform-config.ts";

const files = await readTerraformFiles();

interface Statement {
  file: string;
  sid: string;
  effect: string;
  actions: string[];
  resources: string[];
}

const strings = (value: unknown): string[] =>
  Array.isArray(value)
    ? value.filter((item): item is string => typeof item === "string")
    : typeof value === "string"
      ? [value]
      : [];

const quoted = (text: string): string[] =>
  [...text.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((match) => match[1] ?? "");

/** The value of `name = [ ... ]` (or a single expression) in a piece of HCL, as its strings. */
function listAfter(text: string, name: string): string[] | undefined {
  const match = new RegExp(`\\b${name}\\s*=\\s*(\\[[\\s\\S]*?\\]|[^\\n]+)`, "i").exec(text);
  return match?.[1] === undefined
    ? undefined
    : quoted(match[1]).length > 0
      ? quoted(match[1])
      : [match[1].trim()];
}

/**
 * Every IAM statement that has a sid, read from the text: policy documents, the statements the
 * modules keep in locals and build with for expressions (which the parser leaves as strings),
 * and jsonencode() policies (Sid, Effect, Action, Resource).
 */
function statements(file: TerraformFile): Statement[] {
  const starts = [...file.text.matchAll(/\bsid\s*=\s*"([^"]+)"/gi)];
  return starts.map((match, index) => {
    const chunk = file.text.slice(match.index, starts[index + 1]?.index ?? match.index + 2000);
    return {
      file: file.path,
      sid: match[1] ?? "",
      effect: /\beffect\s*=\s*"(\w+)"/i.exec(chunk)?.[1] ?? "Allow",
      actions: listAfter(chunk, "actions") ?? listAfter(chunk, "Action") ?? [],
      resources: listAfter(chunk, "resources") ?? listAfter(chunk, "Resource") ?? [],
    };
  });
}

/** Every action list in the text, sid or not, with the effect written just above it. */
function actionLists(file: TerraformFile): Array<{ where: string; effect: string; actions: string[] }> {
  return [...file.text.matchAll(/\b(?:actions|Action)\s*=\s*(\[[\s\S]*?\]|"[^"]*")/g)].map((match) => {
    const before = file.text.slice(0, match.index);
    const above = before.split("\n").slice(-6).join("\n");
    return {
      where: `${file.path}:${before.split("\n").length}`,
      effect: /\beffect\s*=\s*"Deny"/i.test(above) ? "Deny" : "Allow",
      actions: quoted(match[1] ?? ""),
    };
  });
}

const allStatements = files.flatMap(statements);

test("the IAM statements were found (the walk reads the policies)", (t) => {
  const sids = new Set(allStatements.map((statement) => statement.sid));
  for (const sid of [
    "ReadUsers",
    "WriteTraces",
    "ConsumeOwnJobQueue",
    "OwnGroupOnly",
    "DenyInsecureTransport",
  ])
    t.true(sids.has(sid), `statement ${sid}`);
});

test("no Allow statement grants a wildcard action (a Deny may: denying everything is safe)", (t) => {
  const lists = files.flatMap(actionLists);
  t.true(lists.length > 20, "the action lists were found");
  const wildcards = lists.filter(
    (list) => list.effect !== "Deny" && list.actions.some((action) => action.includes("*")),
  );
  t.deepEqual(
    wildcards.map((list) => `${list.where}: ${list.actions.join(", ")}`),
    [],
  );
});

test('a "*" resource has its reason written beside it', (t) => {
  const unexplained: string[] = [];
  for (const file of files) {
    const lines = file.text.split("\n");
    lines.forEach((line, index) => {
      if (!/resources\s*=\s*\["\*"\]/.test(line)) return;
      const above = lines.slice(Math.max(0, index - 3), index + 1).join("\n");
      if (!/#\s*Resource "\*": \S/.test(above)) unexplained.push(`${file.path}:${index + 1}`);
    });
  }
  t.deepEqual(unexplained, [], 'add a `# Resource "*": <why AWS requires it>` comment just above');
  // The walk agrees: a statement with "*" among its resources comes from one of those lines.
  t.true(allStatements.some((statement) => statement.resources.includes("*")));
});

test("every bucket's policy denies requests without TLS", (t) => {
  const buckets = blocks(files, "resource").filter((block) => block.type === "aws_s3_bucket");
  t.true(buckets.length >= 2, "the stack's buckets and the state bucket");
  const policies = blocks(files, "resource").filter((block) => block.type === "aws_s3_bucket_policy");
  const documents = blocks(files, "data").filter((block) => block.type === "aws_iam_policy_document");
  for (const bucket of buckets) {
    const reference = `aws_s3_bucket.${bucket.name}`;
    const policy = policies.find(
      (candidate) =>
        candidate.file.module === bucket.file.module && String(candidate.body.bucket).includes(reference),
    );
    t.truthy(policy, `${bucket.file.path}: ${reference} has a bucket policy`);
    const documentName = /data\.aws_iam_policy_document\.([\w-]+)/.exec(String(policy?.body.policy))?.[1];
    const document = documents.find(
      (candidate) => candidate.file.module === bucket.file.module && candidate.name === documentName,
    );
    const denies = ((document?.body.statement ?? []) as Array<Record<string, unknown>>).filter(
      (statement) =>
        statement.effect === "Deny" &&
        ((statement.condition ?? []) as Array<Record<string, unknown>>).some(
          (condition) =>
            condition.test === "Bool" &&
            condition.variable === "aws:SecureTransport" &&
            JSON.stringify(condition.values) === '["false"]',
        ),
    );
    t.is(denies.length, 1, `${reference}: one Deny on aws:SecureTransport = false`);
    const resources = strings(denies[0]?.resources);
    t.true(
      resources.some((resource) => resource.endsWith(".arn}")),
      `${reference}: the bucket itself`,
    );
    t.true(
      resources.some((resource) => resource.endsWith(".arn}/*")),
      `${reference}: its objects`,
    );
  }
});

test("the update topic traces with X-Ray (Active) on AWS, so a job's trace reaches the worker", (t) => {
  const [topic] = blocks(files, "resource").filter(
    (block) => block.type === "aws_sns_topic" && block.file.module === "modules/messaging",
  );
  t.is(topic?.body.tracing_config, `\${var.topic_tracing_config}`);
  const argument = String(moduleCall(files, "modules/messaging").topic_tracing_config ?? "");
  // Only moto gets null (it never reads the setting back); every real deployment gets Active.
  t.regex(argument, /var\.local_emulator \? null : "Active"/);
});

test("every SNS topic is encrypted with KMS", (t) => {
  const topics = blocks(files, "resource").filter((block) => block.type === "aws_sns_topic");
  t.true(topics.length >= 2, "the update topic and the alarm topic");
  for (const topic of topics) {
    const key = String(topic.body.kms_master_key_id ?? "");
    t.not(key, "", `${topic.file.path}: aws_sns_topic.${topic.name} sets kms_master_key_id`);
    // A module variable: follow it to the root's argument and that variable's default.
    const variable = /^\$\{var\.(\w+)\}$/.exec(key)?.[1];
    if (!variable) continue;
    const argument = String(moduleCall(files, topic.file.module)[variable] ?? "");
    const rootVariable = /^\$\{var\.(\w+)\}$/.exec(argument)?.[1];
    t.truthy(rootVariable, `the root passes ${variable} to ${topic.file.module}`);
    const value = rootVariableDefault(files, rootVariable ?? "");
    t.true(
      typeof value === "string" && value !== "",
      `root ${rootVariable} defaults to a key (got ${value})`,
    );
  }
});

test("the update processor has reserved concurrency", (t) => {
  const lambda = blocks(files, "resource").find((block) => block.type === "aws_lambda_function");
  t.regex(
    String(lambda?.body.reserved_concurrent_executions),
    /each\.key == "update-processor" \? var\.update_processor_reserved_concurrency/,
  );
  t.is(
    moduleCall(files, "modules/functions").update_processor_reserved_concurrency,
    interpolation("var.update_processor_reserved_concurrency"),
  );
  const reserved = rootVariableDefault(files, "update_processor_reserved_concurrency");
  t.true(typeof reserved === "number" && reserved >= 2, `default ${reserved}`);
});

test("the API stage throttles per route, on routes that exist", (t) => {
  const stage = blocks(files, "resource").find((block) => block.type === "aws_apigatewayv2_stage");
  const routeSettings = (stage?.body.dynamic as Record<string, Array<Record<string, unknown>>> | undefined)
    ?.route_settings?.[0];
  t.is(routeSettings?.for_each, interpolation("var.route_throttling"));
  const content = (routeSettings?.content as Array<Record<string, unknown>>)?.[0];
  t.truthy(content?.throttling_burst_limit);
  t.truthy(content?.throttling_rate_limit);
  t.is(moduleCall(files, "modules/http-api").route_throttling, interpolation("var.route_throttling"));
  const throttled = rootVariableDefault(files, "route_throttling") as Record<string, unknown>;
  t.true(Object.keys(throttled).length > 0, "some routes are throttled by default");
  for (const route of Object.keys(throttled)) t.true(route in routesFile.routes, `${route} is a route`);
});

test("workers get Session Manager's exact actions and Auto Scaling on their own group only", (t) => {
  const attachments = blocks(files, "resource").filter(
    (block) => block.type === "aws_iam_role_policy_attachment",
  );
  t.deepEqual(
    attachments.map((block) => `${block.file.path}: ${block.body.policy_arn}`),
    [],
    "no AWS managed policy is attached (AmazonSSMManagedInstanceCore among them)",
  );
  const worker = allStatements.filter((statement) => statement.file.includes("modules/worker-pool/"));
  t.true(worker.length > 0);
  const bySid = (sid: string) => worker.find((statement) => statement.sid === sid);
  t.deepEqual(bySid("RegisterWithSystemsManager")?.actions, ["ssm:UpdateInstanceInformation"]);
  t.deepEqual(bySid("SessionManagerChannels")?.actions, [
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
  ]);
  t.deepEqual(bySid("OwnGroupOnly")?.actions, [
    "autoscaling:SetInstanceProtection",
    "autoscaling:CompleteLifecycleAction",
    "autoscaling:RecordLifecycleActionHeartbeat",
  ]);
  t.deepEqual(bySid("OwnGroupOnly")?.resources, ["[local.autoscaling_group_arn]"]);
  const workerIam = files.find((file) => file.path.endsWith("modules/worker-pool/iam.tf"));
  t.regex(
    workerIam?.text ?? "",
    /autoScalingGroupName\/\$\{local\.name\}"/,
    "the ARN names the pool's own group",
  );
});

test("workers' CloudWatch agent writes only its own pool's log group, and relays traces", (t) => {
  const worker = allStatements.filter((statement) => statement.file.includes("modules/worker-pool/"));
  const bySid = (sid: string) => worker.find((statement) => statement.sid === sid);
  t.deepEqual(bySid("ShipWorkerLog")?.actions, [
    "logs:CreateLogStream",
    "logs:PutLogEvents",
    "logs:DescribeLogStreams",
  ]);
  const workerIam = files.find((file) => file.path.endsWith("modules/worker-pool/iam.tf"));
  t.regex(
    workerIam?.text ?? "",
    /sid\s+= "ShipWorkerLog"\n.*\n\s+resources = \[aws_cloudwatch_log_group\.worker\.arn, "\$\{aws_cloudwatch_log_group\.worker\.arn\}:\*"\]\n/,
    "the pool's own group and its streams, nothing else",
  );
  t.deepEqual(
    worker.flatMap((statement) =>
      statement.actions.filter((action) =>
        /^logs:(CreateLogGroup|PutRetentionPolicy|DeleteLogGroup)$/.test(action),
      ),
    ),
    [],
    "Terraform owns the group and its retention",
  );
  t.deepEqual(bySid("SendWorkerTraces")?.actions, ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]);
  t.deepEqual(bySid("SendWorkerTraces")?.resources, ["*"]);
});
