/**
 * @module xray-segments
 * The worker's own X-Ray segments: one per job run, parented on the trace header its job.submit
 * carried (core/tracing/trace-header.ts), sent to the X-Ray daemon (or the CloudWatch agent's
 * X-Ray listener) over UDP, the daemon's own protocol: a header line, then the segment document.
 * Only when AWS_XRAY_DAEMON_ADDRESS names a daemon (worker/main.ts): without one, nothing is sent.
 * Sending is fire-and-forget: a lost datagram loses a segment, never a job.
 */
import { randomBytes } from "node:crypto";
import { createSocket, type Socket } from "node:dgram";
import { parseTraceHeader } from "../core/tracing/trace-header.ts";

const HEADER = `${JSON.stringify({ format: "json", version: 1 })}\n`;

export interface JobSegment {
  trace: string | undefined;
  /** ms since the epoch. */
  start: number;
  end: number;
  /** The run's outcome (worker/run-job.ts JobOutcome). */
  outcome: string;
  annotations: Record<string, string | number>;
}

/** The segment document for a run, or undefined when its trace is missing or not sampled. */
export function segmentDocument(name: string, run: JobSegment): Record<string, unknown> | undefined {
  const context = parseTraceHeader(run.trace);
  if (!context?.sampled) return undefined;
  return {
    name,
    id: randomBytes(8).toString("hex"),
    trace_id: context.root,
    ...(context.parent ? { parent_id: context.parent } : {}),
    start_time: run.start / 1000,
    end_time: run.end / 1000,
    origin: "AWS::EC2::Instance",
    // A job's own failure is an error of the job, not a fault of the worker.
    ...(run.outcome === "failed" ? { error: true } : {}),
    annotations: { ...run.annotations, outcome: run.outcome },
  };
}

export class XRaySegments {
  private readonly socket: Socket;
  private readonly host: string;
  private readonly port: number;

  /** `address`: host:port of the daemon, as AWS_XRAY_DAEMON_ADDRESS gives it (127.0.0.1:2000). */
  constructor(
    address: string,
    private readonly name = "foqus-worker",
  ) {
    const [host = "127.0.0.1", port = "2000"] = address.split(":");
    this.host = host;
    this.port = Number(port);
    this.socket = createSocket("udp4");
    this.socket.unref();
    this.socket.on("error", () => undefined); // a daemon that is not there loses segments only
  }

  record(run: JobSegment): void {
    const document = segmentDocument(this.name, run);
    if (!document) return;
    this.socket.send(HEADER + JSON.stringify(document), this.port, this.host);
  }

  close(): void {
    this.socket.close();
  }
}
