/**
 * @module test/terraform/apply-destroy
 * Applies terraform/ (with local.tfvars) to a fresh moto server through the deploy chain's
 * Terraform steps (deploy/terraform-stack.ts: the staged root of `make deploy`, with a local
 * backend in place of S3 and a fixed image digest in place of `make image` + `make push`),
 * checks what it built through the AWS APIs and the Terraform state, checks that a second plan is
 * empty, then destroys it. Each run has its own moto, data dir, staged root and state file, so it
 * never touches terraform/ beyond reading it (init runs with -lockfile=readonly when the lock
 * file exists).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DescribeTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  GetBucketEncryptionCommand,
  GetBucketVersioningCommand,
  GetPublicAccessBlockCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import {
  GetSubscriptionAttributesCommand,
  GetTopicAttributesCommand,
  ListSubscriptionsByTopicCommand,
  SNSClient,
  type Subscription,
} from "@aws-sdk/client-sns";
import { GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import test, { type ExecutionContext } from "ava";
import {
  apply,
  type Deployment,
  destroy,
  init,
  plan,
  runTerraform,
  type TerraformResult,
} from "../../deploy/terraform-stack.ts";
import { startMoto } from "../../local/env/moto.ts";
import { type StackOutputs, TERRAFORM_DIR } from "../../local/env/terraform.ts";

// What local.tfvars and the table module promise; written out here so that a change on either
// side has to be made on purpose.
const EXPECTED_KEY_SCHEMAS: Record<string, Array<[name: string, type: "HASH" | "RANGE"]>> = {
  users: [["Username", "HASH"]],
  sessions: [
    ["Username", "HASH"],
    ["SessionId", "RANGE"],
  ],
  jobs: [
    ["SessionId", "HASH"],
    ["JobId", "RANGE"],
  ],
  results: [
    ["SessionId", "HASH"],
    ["Key", "RANGE"],
  ],
  simulations: [
    ["Username", "HASH"],
    ["Name", "RANGE"],
  ],
  idempotency: [["id", "HASH"]],
  archives: [
    ["Username", "HASH"],
    ["Key", "RANGE"],
  ],
};
// Secondary indexes the stores query: table → index → its key schema.
const EXPECTED_INDEXES: Record<string, Record<string, Array<[name: string, type: "HASH" | "RANGE"]>>> = {
  users: {
    ByKind: [
      ["Kind", "HASH"],
      ["Username", "RANGE"],
    ],
  },
  jobs: {
    ByState: [
      ["SessionId", "HASH"],
      ["State", "RANGE"],
    ],
    ByJob: [
      ["JobId", "HASH"],
      ["Username", "RANGE"],
    ],
  },
};
const EXPECTED_POOL_APPLICATIONS: Record<string, string[]> = {
  linux: ["foqus", "fake", "command", "cstr"],
  windows: ["AspenPlus", "ACM"],
};
const EXPECTED_EXTRA_FUNCTIONS = [
  "authorizer",
  "update-processor",
  "submit-publisher",
  "archiver",
  "restorer",
  "fan-out",
];

const routes = (
  JSON.parse(readFileSync(join(TERRAFORM_DIR, "../handlers/routes.json"), "utf8")) as {
    routes: Record<string, string>;
  }
).routes;

/** What `make image` + `make push` would have recorded: the functions must run exactly this. */
const FIXED_IMAGE_DIGEST = `sha256:${"0123456789abcdef".repeat(4)}`;

/** The root outputs the test reads: the local runtime's, the dashboard's name and the image. */
type Outputs = StackOutputs & {
  dashboard_name: string;
  lambda_image_uri: string;
  alarm_topic_arn: string;
  worker_log_group_names: Record<string, string>;
};

/** Every resource in `terraform show -json`, by address, with its attribute values. */
function stateResources(shown: unknown): Map<string, Record<string, unknown>> {
  interface Module {
    resources?: Array<{ address: string; values: Record<string, unknown> }>;
    child_modules?: Module[];
  }
  const resources = new Map<string, Record<string, unknown>>();
  const walk = (module: Module | undefined): void => {
    for (const resource of module?.resources ?? []) resources.set(resource.address, resource.values);
    for (const child of module?.child_modules ?? []) walk(child);
  };
  walk((shown as { values?: { root_module?: Module } }).values?.root_module);
  return resources;
}

/** The tail of a failed command's output, for assertion messages. */
/** Terraform's own "Error:" lines, the reason a run failed. */
function errorLines(result: TerraformResult): string {
  return result.stderr
    .split("\n")
    .filter((line) => line.includes("Error:"))
    .join("\n");
}

// The errors go last: a CI log shows a failure's last lines.
function tail(result: TerraformResult): string {
  return `exit ${result.code}\n${result.stdout.slice(-2000)}\n${result.stderr.slice(-3000)}\n${errorLines(result)}`;
}

/**
 * Runs an apply or a destroy, and once more if it failed, as local/env/terraform.ts applyStack
 * does: on a loaded machine the emulator can drop the answer to a call that did succeed, and the
 * provider's retry of a call that is not idempotent then fails (CI saw AddRoleToInstanceProfile
 * "LimitExceeded" and DeleteLaunchTemplate "NotFound"). The second run starts from the state the
 * first left. The first failure's errors are logged.
 */
async function onceMore(
  t: ExecutionContext,
  what: string,
  run: () => Promise<TerraformResult>,
): Promise<TerraformResult> {
  const first = await run();
  if (first.code === 0) return first;
  t.log(`the first ${what} failed, running it once more:\n${errorLines(first)}`);
  return run();
}

const sortedCopy = (values: readonly string[]): string[] => [...values].sort();

test.serial("terraform applies to moto, plans no changes afterwards, and destroys", async (t) => {
  t.timeout(600_000);

  // Prepare: an emulator and a work dir of this run only, both removed whatever happens.
  const workDir = mkdtempSync(join(tmpdir(), "foqus-tf-test-"));
  t.teardown(() => rmSync(workDir, { recursive: true, force: true }));
  const moto = await startMoto();
  t.teardown(() => moto.stop());
  // The deploy chain's deployment, with a local state file and the emulator's endpoint.
  const deployment: Deployment = {
    name: "emulator-test",
    workDir,
    backend: { kind: "local", path: join(workDir, "terraform.tfstate") },
    varFiles: [join(TERRAFORM_DIR, "local.tfvars")],
    vars: { aws_endpoint: moto.endpoint },
    env: { AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test", AWS_REGION: "us-east-1" },
  };
  const terraform = (args: string[]): Promise<TerraformResult> => runTerraform(deployment, args);
  const aws = {
    endpoint: moto.endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
    maxAttempts: 2,
  };
  const dynamodb = new DynamoDBClient(aws);
  const s3 = new S3Client({ ...aws, forcePathStyle: true });
  const sns = new SNSClient(aws);
  const sqs = new SQSClient(aws);
  t.teardown(() => {
    for (const client of [dynamodb, s3, sns, sqs]) client.destroy();
  });

  const lockFileExists = existsSync(join(TERRAFORM_DIR, ".terraform.lock.hcl"));
  const initialised = await init(deployment, { lockfileReadonly: lockFileExists });
  t.is(initialised.code, 0, `terraform init failed: ${tail(initialised)}`);

  // Act: apply, as make deploy's last step does, with the image by digest.
  let started = Date.now();
  const stackOptions = { imageDigest: FIXED_IMAGE_DIGEST, autoApprove: true };
  const applied = await onceMore(t, "apply", () => apply(deployment, stackOptions));
  t.log(`apply: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  t.is(applied.code, 0, `terraform apply failed: ${tail(applied)}`);
  if (applied.code !== 0) return;

  const outputResult = await terraform(["output", "-json"]);
  t.is(outputResult.code, 0, `terraform output failed: ${tail(outputResult)}`);
  const outputs = Object.fromEntries(
    Object.entries(JSON.parse(outputResult.stdout) as Record<string, { value: unknown }>).map(
      ([key, output]) => [key, output.value],
    ),
  ) as unknown as Outputs;

  // Assess: tables, with their key schemas.
  t.deepEqual(sortedCopy(Object.keys(outputs.table_names)), sortedCopy(Object.keys(EXPECTED_KEY_SCHEMAS)));
  for (const [table, expected] of Object.entries(EXPECTED_KEY_SCHEMAS)) {
    const name = outputs.table_names[table];
    t.is(name, `foqus-${table}`);
    const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: name }));
    t.deepEqual(
      Table?.KeySchema?.map((key) => [key.AttributeName, key.KeyType]),
      expected,
      `key schema of ${name}`,
    );
    const indexes = Object.fromEntries(
      [...(Table?.LocalSecondaryIndexes ?? []), ...(Table?.GlobalSecondaryIndexes ?? [])].map((index) => [
        index.IndexName,
        index.KeySchema?.map((key) => [key.AttributeName, key.KeyType]),
      ]),
    );
    t.deepEqual(indexes, EXPECTED_INDEXES[table] ?? {}, `indexes of ${name}`);
    // The jobs table's stream is the submit outbox (core/jobs/submit-outbox.ts).
    t.deepEqual(
      Table?.StreamSpecification?.StreamEnabled ? Table.StreamSpecification.StreamViewType : undefined,
      table === "jobs" ? "NEW_AND_OLD_IMAGES" : undefined,
      `stream of ${name}`,
    );
    const indexAttributes = Object.values(EXPECTED_INDEXES[table] ?? {}).flatMap((keys) =>
      keys.map(([a]) => a),
    );
    t.deepEqual(
      sortedCopy((Table?.AttributeDefinitions ?? []).map((a) => `${a.AttributeName}:${a.AttributeType}`)),
      sortedCopy(
        [...new Set([...expected.map(([attribute]) => attribute), ...indexAttributes])].map((a) => `${a}:S`),
      ),
      `attribute types of ${name}`,
    );
    t.is(Table?.BillingModeSummary?.BillingMode, "PAY_PER_REQUEST", `billing mode of ${name}`);
  }

  // Assess: buckets, encrypted and closed to the public; simulations versioned.
  t.deepEqual(sortedCopy(Object.keys(outputs.bucket_names)), ["results", "simulations"]);
  for (const bucket of Object.values(outputs.bucket_names)) {
    const encryption = await s3.send(new GetBucketEncryptionCommand({ Bucket: bucket }));
    t.is(
      encryption.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault
        ?.SSEAlgorithm,
      "AES256",
      `encryption of ${bucket}`,
    );
    const access = await s3.send(new GetPublicAccessBlockCommand({ Bucket: bucket }));
    t.deepEqual(
      access.PublicAccessBlockConfiguration,
      { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true },
      `public access block of ${bucket}`,
    );
  }
  const versioning = await s3.send(
    new GetBucketVersioningCommand({ Bucket: outputs.bucket_names.simulations }),
  );
  t.is(versioning.Status, "Enabled");

  // Assess: the topic, and the update queue redriving to its DLQ.
  const topic = await sns.send(new GetTopicAttributesCommand({ TopicArn: outputs.update_topic_arn }));
  t.is(topic.Attributes?.TopicArn, outputs.update_topic_arn);
  t.is(topic.Attributes?.KmsMasterKeyId, "alias/aws/sns", "the update topic is encrypted");
  const alarmTopic = await sns.send(new GetTopicAttributesCommand({ TopicArn: outputs.alarm_topic_arn }));
  t.regex(alarmTopic.Attributes?.KmsMasterKeyId ?? "", /^arn:aws:kms:/, "the alarm topic has its own key");
  t.regex(outputs.update_topic_arn, /:foqus-updates$/);

  const queueArn = async (url: string): Promise<string | undefined> =>
    (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["QueueArn"] })))
      .Attributes?.QueueArn;
  const updateQueue = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: outputs.update_queue_url, AttributeNames: ["All"] }),
  );
  const updateDlqArn = await queueArn(outputs.update_dead_letter_queue_url);
  t.truthy(updateDlqArn);
  t.deepEqual(JSON.parse(updateQueue.Attributes?.RedrivePolicy ?? "null"), {
    deadLetterTargetArn: updateDlqArn,
    maxReceiveCount: 5,
  });
  // The fan-out queue (its planned URL, which every function gets) redrives to its own DLQ.
  t.is(outputs.function_environment.FANOUT_QUEUE_URL, outputs.fanout_queue_url);
  const fanOutQueue = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: outputs.fanout_queue_url, AttributeNames: ["All"] }),
  );
  t.regex(
    JSON.parse(fanOutQueue.Attributes?.RedrivePolicy ?? "{}").deadLetterTargetArn ?? "",
    /:foqus-fanout-dlq$/,
  );

  // Assess: every subscription of the topic, by queue ARN. The update queue takes all events;
  // each job queue only job.submit of its pool's applications.
  const subscriptions: Subscription[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sns.send(
      new ListSubscriptionsByTopicCommand({ TopicArn: outputs.update_topic_arn, NextToken: nextToken }),
    );
    subscriptions.push(...(page.Subscriptions ?? []));
    nextToken = page.NextToken;
  } while (nextToken);
  const subscriptionAttributes = async (endpoint: string | undefined) => {
    const subscription = subscriptions.find((s) => s.Protocol === "sqs" && s.Endpoint === endpoint);
    if (!subscription?.SubscriptionArn) return undefined;
    return (
      await sns.send(new GetSubscriptionAttributesCommand({ SubscriptionArn: subscription.SubscriptionArn }))
    ).Attributes;
  };

  const updateSubscription = await subscriptionAttributes(updateQueue.Attributes?.QueueArn);
  t.is(updateSubscription?.RawMessageDelivery, "true", "the update queue is subscribed with raw delivery");
  t.falsy(updateSubscription?.FilterPolicy, "the update queue receives every event");

  t.deepEqual(
    sortedCopy(Object.keys(outputs.job_queue_urls)),
    sortedCopy(Object.keys(EXPECTED_POOL_APPLICATIONS)),
  );
  for (const [pool, applications] of Object.entries(EXPECTED_POOL_APPLICATIONS)) {
    const url = outputs.job_queue_urls[pool];
    t.truthy(url, `job queue of pool ${pool}`);
    const attributes = await subscriptionAttributes(await queueArn(url ?? ""));
    t.is(attributes?.RawMessageDelivery, "true", `raw delivery to the ${pool} job queue`);
    const filter = JSON.parse(attributes?.FilterPolicy ?? "{}") as Record<string, unknown>;
    t.deepEqual(filter.event, ["job.submit"], `event filter of pool ${pool}`);
    t.deepEqual(sortedCopy((filter.application as string[]) ?? []), sortedCopy(applications), `pool ${pool}`);
    t.false("username" in filter, `pool ${pool} lists no usernames, so its filter must not constrain them`);
  }

  // Assess: one function per handler and one route per routes.json entry, in the state.
  const list = await terraform(["state", "list"]);
  t.is(list.code, 0, `terraform state list failed: ${tail(list)}`);
  const addresses = list.stdout.split("\n").filter(Boolean);
  const instanceKeys = (address: string): string[] =>
    addresses
      .filter((a) => a.startsWith(`${address}[`))
      .map((a) => JSON.parse(a.slice(address.length + 1, -1)) as string)
      .sort();
  const expectedFunctions = sortedCopy([...new Set([...Object.values(routes), ...EXPECTED_EXTRA_FUNCTIONS])]);
  t.deepEqual(instanceKeys("module.functions.aws_lambda_function.this"), expectedFunctions);
  t.deepEqual(sortedCopy(Object.keys(outputs.function_names)), expectedFunctions);
  t.deepEqual(instanceKeys("module.http_api.aws_apigatewayv2_route.this"), sortedCopy(Object.keys(routes)));

  // Assess: the operations dashboard and its module's alarms, one queue-age alarm per pool.
  t.true(
    addresses.includes("module.dashboard.aws_cloudwatch_dashboard.this"),
    "the dashboard is in the state",
  );
  t.is(outputs.dashboard_name, "foqus-operations");
  t.true(addresses.includes("module.dashboard.aws_cloudwatch_metric_alarm.update_processor_errors"));
  t.true(addresses.includes("module.dashboard.aws_cloudwatch_metric_alarm.api_5xx_rate"));
  t.deepEqual(
    instanceKeys("module.dashboard.aws_cloudwatch_metric_alarm.job_queue_age"),
    sortedCopy(Object.keys(EXPECTED_POOL_APPLICATIONS)),
  );

  // Assess: the deploy chain's image by digest, and what issue 10 added to the stack.
  t.regex(outputs.lambda_image_uri, new RegExp(`/foqus-lambda@${FIXED_IMAGE_DIGEST}$`));
  for (const address of [
    "module.functions.aws_ecr_lifecycle_policy.this",
    "module.dashboard.aws_sns_topic.alarms",
    "module.dashboard.aws_kms_key.alarms",
    "module.dashboard.aws_cloudwatch_metric_alarm.worker_lost_jobs",
    // Result tiers: the restore notifications and the notice topic.
    "module.result_tiers.aws_s3_bucket_notification.restores",
    "module.result_tiers.aws_sns_topic.notifications",
    'module.result_tiers.aws_sqs_queue.this["archive"]',
    'module.result_tiers.aws_sqs_queue.dlq["restore"]',
    // Pages of large starts, stops, kills and deletes: the queue, its DLQ and alarm, the trigger.
    "module.functions.aws_sqs_queue.fanout",
    "module.functions.aws_sqs_queue.fanout_dlq",
    "module.functions.aws_cloudwatch_metric_alarm.fanout_dead_letter",
    "module.functions.aws_lambda_event_source_mapping.fanout",
  ]) {
    t.true(addresses.includes(address), `${address} is in the state`);
  }
  // moto enforces bucket policies and is served over plain HTTP: the TLS-only policy is left out
  // of an emulator stack (terraform-security.test.ts checks it is there for AWS).
  t.false(addresses.some((address) => address.startsWith("module.buckets.aws_s3_bucket_policy.tls_only")));
  t.false(
    addresses.includes("module.dashboard.aws_sns_topic_subscription.alarm_email[0]"),
    "no email by default",
  );
  const functionKeys = sortedCopy(Object.keys(outputs.function_names));
  t.deepEqual(instanceKeys("module.dashboard.aws_cloudwatch_metric_alarm.function_throttles"), functionKeys);
  t.deepEqual(
    instanceKeys("module.dashboard.aws_cloudwatch_metric_alarm.function_errors"),
    functionKeys.filter((name) => name !== "update-processor"),
  );
  t.deepEqual(
    instanceKeys("module.dashboard.aws_cloudwatch_metric_alarm.pool_at_maximum"),
    sortedCopy(Object.keys(EXPECTED_POOL_APPLICATIONS)),
  );
  for (const pool of Object.keys(EXPECTED_POOL_APPLICATIONS)) {
    t.true(
      addresses.includes(`module.worker_pool["${pool}"].aws_autoscaling_lifecycle_hook.drain`),
      `pool ${pool} has its termination hook`,
    );
  }

  // Assess: each pool's worker log group, and the CloudWatch agent config its user data writes
  // (rendered, as the instances get it): that group, a stream per instance, the worker's log
  // file, and the X-Ray listener the worker's AWS_XRAY_DAEMON_ADDRESS names.
  const shown = await terraform(["show", "-json", "-no-color"]);
  t.is(shown.code, 0, `terraform show failed: ${tail(shown)}`);
  const resources = stateResources(JSON.parse(shown.stdout));
  const workerLogFiles: Record<string, string> = {
    linux: "/var/log/foqus/worker.log",
    windows: "C:\\ProgramData\\foqus\\logs\\worker.log",
  };
  t.deepEqual(
    outputs.worker_log_group_names,
    Object.fromEntries(
      Object.keys(EXPECTED_POOL_APPLICATIONS).map((pool) => [pool, `/foqus/foqus/worker/${pool}`]),
    ),
  );
  for (const pool of Object.keys(EXPECTED_POOL_APPLICATIONS)) {
    const group = resources.get(`module.worker_pool["${pool}"].aws_cloudwatch_log_group.worker`);
    t.is(group?.name, `/foqus/foqus/worker/${pool}`, `pool ${pool} has its log group`);
    t.is(group?.retention_in_days, 30, `retention of pool ${pool}'s log group`);
    const launchTemplate = resources.get(`module.worker_pool["${pool}"].aws_launch_template.this`);
    const userData = Buffer.from(String(launchTemplate?.user_data ?? ""), "base64").toString("utf8");
    const agent = JSON.parse(/^\{"logs":.*$/m.exec(userData)?.[0] ?? "null");
    t.deepEqual(
      agent?.logs?.logs_collected?.files?.collect_list,
      [
        {
          file_path: workerLogFiles[pool],
          log_group_name: `/foqus/foqus/worker/${pool}`,
          log_stream_name: "{instance_id}",
        },
      ],
      `pool ${pool}'s agent ships its worker's log`,
    );
    t.deepEqual(agent?.traces?.traces_collected?.xray, {
      bind_address: "127.0.0.1:2000",
      tcp_proxy: { bind_address: "127.0.0.1:2000" },
    });
    t.regex(
      userData,
      pool === "windows"
        ? /SetEnvironmentVariable\('AWS_XRAY_DAEMON_ADDRESS', '127\.0\.0\.1:2000', 'Machine'\)/
        : /^AWS_XRAY_DAEMON_ADDRESS="127\.0\.0\.1:2000"$/m,
      `pool ${pool}'s worker sends its segments to the agent`,
    );
    t.regex(userData, /amazon-cloudwatch-agent-ctl(\.ps1')? -a fetch-config -m ec2 -c "?file:/);
  }

  // Act and assess: a second plan finds nothing to change (exit code 0, not 2).
  started = Date.now();
  const planned = await plan(deployment, { imageDigest: FIXED_IMAGE_DIGEST, detailedExitcode: true });
  t.log(`plan: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  t.is(planned.code, 0, `plan after apply is not empty: ${tail(planned)}`);

  // Act: destroy.
  started = Date.now();
  const destroyed = await onceMore(t, "destroy", () => destroy(deployment, stackOptions));
  t.log(`destroy: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  t.is(destroyed.code, 0, `terraform destroy failed: ${tail(destroyed)}`);

  // Assess: the tables are gone.
  for (const name of Object.values(outputs.table_names)) {
    await t.throwsAsync(dynamodb.send(new DescribeTableCommand({ TableName: name })), {
      name: "ResourceNotFoundException",
    });
  }
});
