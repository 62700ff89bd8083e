/**
 * @module instance-lifecycle
 * What a worker on an Auto Scaling instance does so that scaling never kills a job:
 *
 * - **Scale-in protection while it holds jobs.** Protected when it holds any, unprotected when
 *   idle, so scale-in picks idle instances. The state is checked every poll, so a job that
 *   starts between two polls is covered by the termination hook below.
 * - **The termination hook.** When the group moves the instance to Terminating:Wait
 *   (`autoscaling/target-lifecycle-state` = Terminated), the worker stops as on SIGTERM (finish
 *   what fits in the grace period, release the rest without spending a delivery) and then
 *   completes the lifecycle action, so the instance goes as soon as it is empty.
 * - **The Spot interruption notice** (`spot/instance-action`, two minutes ahead): the same stop.
 *   A Spot reclaim has no hook to complete.
 *
 * Everything it learns comes from the instance metadata service, IMDSv2 (a session token on
 * every read); the Auto Scaling calls go through a port, so tests give a fake one.
 */
import { setTimeout as sleep } from "node:timers/promises";

export interface MetadataService {
  /** The text at a metadata path, or undefined when it does not exist (404). */
  get(path: string): Promise<string | undefined>;
}

/** IMDSv2: a token from PUT /latest/api/token, sent with every read. */
export class Imds implements MetadataService {
  private token: { value: string; until: number } | undefined;

  constructor(
    private readonly endpoint = "http://169.254.169.254",
    private readonly timeoutMs = 2000,
  ) {}

  private async sessionToken(): Promise<string> {
    if (this.token && this.token.until > Date.now()) return this.token.value;
    const ttlSeconds = 21600;
    const response = await fetch(`${this.endpoint}/latest/api/token`, {
      method: "PUT",
      headers: { "x-aws-ec2-metadata-token-ttl-seconds": String(ttlSeconds) },
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    if (!response.ok) throw new Error(`IMDSv2 refused a token: HTTP ${response.status}`);
    this.token = { value: await response.text(), until: Date.now() + (ttlSeconds - 60) * 1000 };
    return this.token.value;
  }

  async get(path: string): Promise<string | undefined> {
    const response = await fetch(`${this.endpoint}/latest/meta-data/${path}`, {
      headers: { "x-aws-ec2-metadata-token": await this.sessionToken() },
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    if (response.status === 404) return undefined;
    if (response.status === 401) this.token = undefined; // expired: the next read asks again
    if (!response.ok) throw new Error(`IMDS ${path}: HTTP ${response.status}`);
    return response.text();
  }
}

/** The Auto Scaling calls the worker makes, on its own group only (worker-pool IAM). */
export interface ScalingPort {
  setProtection(protect: boolean): Promise<void>;
  completeTermination(): Promise<void>;
}

export interface LifecycleWorker {
  /** Jobs in hand now. */
  readonly inHand: number;
  /** The graceful stop (finish or release what is in hand); resolves once it is done. */
  stop(reason: string): Promise<void>;
}

export interface LifecycleOptions {
  metadata: MetadataService;
  scaling: ScalingPort;
  worker: LifecycleWorker;
  pollMs?: number;
  log?: (message: string, fields?: Record<string, unknown>) => void;
  /** After it stopped the worker itself (and completed the hook): the process may exit. */
  onEnded?: (reason: "scale-in" | "spot") => void;
}

export class InstanceLifecycle {
  private protectedNow: boolean | undefined;
  private running = false;
  private loop: Promise<void> | undefined;
  private readonly stopped = new AbortController();
  /** Why the worker was stopped by this watcher, once it was. */
  ended: "scale-in" | "spot" | undefined;

  constructor(private readonly options: LifecycleOptions) {}

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  /** Ends the watching (the worker stopped for another reason). */
  async close(): Promise<void> {
    this.running = false;
    this.stopped.abort();
    await this.loop;
  }

  /** One look: protection, then the termination hook, then a Spot notice. */
  async check(): Promise<void> {
    const { metadata, scaling, worker } = this.options;
    const busy = worker.inHand > 0;
    if (busy !== this.protectedNow) {
      await scaling.setProtection(busy);
      this.protectedNow = busy;
    }
    if ((await metadata.get("autoscaling/target-lifecycle-state")) === "Terminated") {
      this.log("scale-in: the instance is terminating; finishing or releasing the jobs in hand");
      this.ended = "scale-in";
      await worker.stop("scale-in");
      await scaling.completeTermination();
      this.running = false;
      this.options.onEnded?.("scale-in");
      return;
    }
    const notice = await metadata.get("spot/instance-action");
    if (notice !== undefined) {
      this.log("spot interruption notice: finishing or releasing the jobs in hand", { notice });
      this.ended = "spot";
      await worker.stop("spot");
      this.running = false;
      this.options.onEnded?.("spot");
    }
  }

  private log(message: string, fields?: Record<string, unknown>): void {
    this.options.log?.(message, fields);
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        await this.check();
      } catch (error) {
        this.log("instance lifecycle check failed; trying again", { error: (error as Error).message });
      }
      if (!this.running) break;
      await sleep(this.options.pollMs ?? 5000, undefined, { signal: this.stopped.signal }).catch(
        () => undefined,
      );
    }
  }
}

/**
 * The worker's settings from its instance's tags (IMDS `tags/instance`, which the pool's launch
 * template enables), for every name in `names` the environment does not already set: the
 * environment wins, so a systemd drop-in or a service setting can override a tag.
 */
export async function settingsFromTags(
  metadata: MetadataService,
  names: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<string[]> {
  const listed = await metadata.get("tags/instance");
  if (listed === undefined) return [];
  const tags = new Set(listed.split("\n").map((line) => line.trim()));
  const applied: string[] = [];
  for (const name of names) {
    if (env[name] !== undefined && env[name] !== "") continue;
    if (!tags.has(name)) continue;
    const value = await metadata.get(`tags/instance/${name}`);
    if (value === undefined) continue;
    env[name] = value;
    applied.push(name);
  }
  return applied;
}
