/**
 * @module pricing/billed-requests
 * How many requests AWS bills for one SDK call, from the sizes the call carries, by the rules
 * core/pricing/prices.json states beside each price:
 *
 * - SNS: each 64 KB chunk of each published message (body and attributes) is one request, so a
 *   PublishBatch of 10 small messages is 10 requests, and a 100 KB message is 2.
 * - SQS: each 64 KB chunk of a call's payload is one request, so a batch of 10 small messages is
 *   one request. A send's payload is its messages; a receive's is the messages it returns; any
 *   other call's is its input.
 * - S3: one request per call, in the price class its operation falls in (`s3RequestClass`).
 * - API Gateway (HTTP APIs): each 512 KB of a request is one request.
 */
import prices from "./prices.json" with { type: "json" };

const utf8 = (text: unknown) => (typeof text === "string" ? Buffer.byteLength(text, "utf8") : 0);
const chunks = (bytes: number, chunkBytes: number) => Math.max(1, Math.ceil(bytes / chunkBytes));

type MessageAttributes = Record<
  string,
  { DataType?: string; StringValue?: string; BinaryValue?: Uint8Array | string } | undefined
>;

/** Attribute names, types and values: they count toward a message's size, on SNS and SQS alike. */
export function messageAttributesSize(attributes: MessageAttributes | undefined): number {
  let size = 0;
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (!value) continue;
    const binary = value.BinaryValue;
    size +=
      utf8(name) +
      utf8(value.DataType) +
      utf8(value.StringValue) +
      (binary instanceof Uint8Array ? binary.byteLength : utf8(binary));
  }
  return size;
}

interface SnsMessage {
  Message?: string;
  MessageAttributes?: MessageAttributes;
}

/** Billed SNS requests of one call: per 64 KB chunk per message for Publish and PublishBatch. */
export function snsBilledRequests(
  operation: string,
  input: Record<string, unknown>,
  chunkBytes = prices.services.sns.chunkBytes,
): number {
  const messageChunks = (message: SnsMessage) =>
    chunks(utf8(message.Message) + messageAttributesSize(message.MessageAttributes), chunkBytes);
  if (operation === "Publish") return messageChunks(input as SnsMessage);
  if (operation === "PublishBatch") {
    const entries = (input.PublishBatchRequestEntries ?? []) as SnsMessage[];
    return entries.reduce((sum, entry) => sum + messageChunks(entry), 0);
  }
  return 1;
}

interface SqsMessage {
  MessageBody?: string;
  Body?: string;
  MessageAttributes?: MessageAttributes;
  MessageSystemAttributes?: MessageAttributes;
}

const sqsMessageSize = (message: SqsMessage) =>
  utf8(message.MessageBody ?? message.Body) +
  messageAttributesSize(message.MessageAttributes) +
  messageAttributesSize(message.MessageSystemAttributes);

/** Billed SQS requests of one call: per 64 KB chunk of its payload (see the module header). */
export function sqsBilledRequests(
  operation: string,
  input: Record<string, unknown>,
  output: Record<string, unknown> = {},
  chunkBytes = prices.services.sqs.chunkBytes,
): number {
  switch (operation) {
    case "SendMessage":
      return chunks(sqsMessageSize(input as SqsMessage), chunkBytes);
    case "SendMessageBatch":
      return chunks(
        ((input.Entries ?? []) as SqsMessage[]).reduce((sum, entry) => sum + sqsMessageSize(entry), 0),
        chunkBytes,
      );
    case "ReceiveMessage":
      return chunks(
        ((output.Messages ?? []) as SqsMessage[]).reduce((sum, message) => sum + sqsMessageSize(message), 0),
        chunkBytes,
      );
    default:
      return chunks(utf8(JSON.stringify(input)), chunkBytes);
  }
}

/**
 * S3's request price classes: "put" (PUT, COPY, POST, LIST), "get" (GET, HEAD and every other
 * request), "free" (DELETE, CANCEL) and "restore" (a restore of an archived object).
 */
export type S3RequestClass = "put" | "get" | "free" | "restore";

const S3_PUT_CLASS = /^(Put|Copy|Post|List|CreateMultipartUpload|UploadPart|CompleteMultipartUpload)/;
const S3_FREE = new Set(["DeleteObject", "DeleteObjects", "AbortMultipartUpload"]);

export function s3RequestClass(operation: string): S3RequestClass {
  if (S3_FREE.has(operation)) return "free";
  if (operation === "RestoreObject") return "restore";
  return S3_PUT_CLASS.test(operation) ? "put" : "get";
}

/**
 * The key a billed S3 request is counted under: the operation, with the storage class written to
 * (a PUT or COPY into an archive class costs that class's price) or a restore's tier in brackets.
 */
export function s3BilledKey(operation: string, input: Record<string, unknown>): string {
  if (operation === "RestoreObject") {
    const tier = (
      input.RestoreRequest as { GlacierJobParameters?: { Tier?: string }; Tier?: string } | undefined
    )?.GlacierJobParameters?.Tier;
    return `S3.RestoreObject[${tier ?? "Standard"}]`;
  }
  const storageClass = typeof input.StorageClass === "string" ? input.StorageClass : undefined;
  return storageClass && storageClass !== "STANDARD" ? `S3.${operation}[${storageClass}]` : `S3.${operation}`;
}

/** Billed API Gateway requests for one HTTP API call of `bytes` (each 512 KB is one). */
export function apiGatewayBilledRequests(
  bytes: number,
  meteredBytes = prices.services.apiGateway.meteredBytes,
) {
  return chunks(bytes, meteredBytes);
}
