/**
 * The worker on an Auto Scaling instance (worker/instance-lifecycle.ts), against a stand-in for
 * the instance metadata service (an HTTP server speaking IMDSv2: a token first, then reads that
 * carry it) and a recording Auto Scaling port: what cannot run here, faked at the process's edge.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import test from "ava";
import {
  Imds,
  InstanceLifecycle,
  type ScalingPort,
  settingsFromTags,
} from "../../worker/instance-lifecycle.ts";

interface FakeImds {
  endpoint: string;
  paths: Map<string, string>;
  reads: string[];
  close(): Promise<void>;
}

async function fakeImds(paths: Record<string, string> = {}): Promise<FakeImds> {
  const state = { paths: new Map(Object.entries(paths)), reads: [] as string[] };
  const token = "token-123";
  const server: Server = createServer((request, response) => {
    if (request.method === "PUT" && request.url === "/latest/api/token") {
      response.end(token);
      return;
    }
    if (request.headers["x-aws-ec2-metadata-token"] !== token) {
      response.statusCode = 401; // IMDSv2 only: a read without the session token is refused
      response.end();
      return;
    }
    const path = (request.url ?? "").replace("/latest/meta-data/", "");
    state.reads.push(path);
    const value = state.paths.get(path);
    response.statusCode = value === undefined ? 404 : 200;
    response.end(value ?? "");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    ...state,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function recordingPort(): ScalingPort & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    async setProtection(protect) {
      calls.push(protect ? "protect" : "unprotect");
    },
    async completeTermination() {
      calls.push("complete");
    },
  };
}

function fakeWorker() {
  const worker = {
    inHand: 0,
    stops: [] as string[],
    async stop(reason: string) {
      worker.stops.push(reason);
      worker.inHand = 0;
    },
  };
  return worker;
}

test("protected from scale-in while it holds jobs, unprotected when idle, one call per change", async (t) => {
  const imds = await fakeImds();
  t.teardown(imds.close);
  const scaling = recordingPort();
  const worker = fakeWorker();
  const lifecycle = new InstanceLifecycle({ metadata: new Imds(imds.endpoint), scaling, worker });
  await lifecycle.check(); // idle
  worker.inHand = 3;
  await lifecycle.check();
  await lifecycle.check(); // still busy: no call
  worker.inHand = 0;
  await lifecycle.check();
  t.deepEqual(scaling.calls, ["unprotect", "protect", "unprotect"]);
  t.deepEqual(worker.stops, []);
});

test("the termination hook stops the worker gracefully, then completes the lifecycle action", async (t) => {
  const imds = await fakeImds();
  t.teardown(imds.close);
  const scaling = recordingPort();
  const worker = fakeWorker();
  const ended: string[] = [];
  const lifecycle = new InstanceLifecycle({
    metadata: new Imds(imds.endpoint),
    scaling,
    worker,
    onEnded: (reason) => ended.push(reason),
  });
  worker.inHand = 2;
  await lifecycle.check();
  imds.paths.set("autoscaling/target-lifecycle-state", "Terminated");
  await lifecycle.check();
  t.deepEqual(worker.stops, ["scale-in"]);
  t.deepEqual(scaling.calls, ["protect", "complete"], "completed only after the stop");
  t.deepEqual(ended, ["scale-in"]);
  t.is(lifecycle.ended, "scale-in");
});

test("a Spot interruption notice stops the worker the same way, with no hook to complete", async (t) => {
  const imds = await fakeImds({ "autoscaling/target-lifecycle-state": "InService" });
  t.teardown(imds.close);
  const scaling = recordingPort();
  const worker = fakeWorker();
  const lifecycle = new InstanceLifecycle({ metadata: new Imds(imds.endpoint), scaling, worker });
  await lifecycle.check();
  t.deepEqual(worker.stops, []);
  imds.paths.set("spot/instance-action", '{"action":"terminate","time":"2026-12-01T12:00:00Z"}');
  await lifecycle.check();
  t.deepEqual(worker.stops, ["spot"]);
  t.false(scaling.calls.includes("complete"));
});

test("the running watcher checks on its own and stops once the worker was stopped", async (t) => {
  const imds = await fakeImds({ "autoscaling/target-lifecycle-state": "Terminated" });
  t.teardown(imds.close);
  const scaling = recordingPort();
  const worker = fakeWorker();
  const done = new Promise<string>((resolve) => {
    new InstanceLifecycle({
      metadata: new Imds(imds.endpoint),
      scaling,
      worker,
      pollMs: 10,
      onEnded: resolve,
    }).start();
  });
  t.is(await done, "scale-in");
  t.deepEqual(worker.stops, ["scale-in"]);
});

test("settings come from instance tags where the environment has none; the environment wins", async (t) => {
  const imds = await fakeImds({
    "tags/instance": "JOB_QUEUE_URL\nWORKER_CONCURRENCY\nName",
    "tags/instance/JOB_QUEUE_URL": "https://sqs.example/q",
    "tags/instance/WORKER_CONCURRENCY": "16",
  });
  t.teardown(imds.close);
  const env: NodeJS.ProcessEnv = { WORKER_CONCURRENCY: "4" };
  const applied = await settingsFromTags(
    new Imds(imds.endpoint),
    ["JOB_QUEUE_URL", "WORKER_CONCURRENCY", "JOBS_TABLE"],
    env,
  );
  t.deepEqual(applied, ["JOB_QUEUE_URL"]);
  t.is(env.JOB_QUEUE_URL, "https://sqs.example/q");
  t.is(env.WORKER_CONCURRENCY, "4");
  t.false(imds.reads.includes("tags/instance/JOBS_TABLE"), "an untagged name is not read");
});

test("every read carries the IMDSv2 session token (a plain read would be refused)", async (t) => {
  const imds = await fakeImds({ "instance-id": "i-0abc" });
  t.teardown(imds.close);
  t.is(await new Imds(imds.endpoint).get("instance-id"), "i-0abc");
  const plain = await fetch(`${imds.endpoint}/latest/meta-data/instance-id`);
  t.is(plain.status, 401);
});
