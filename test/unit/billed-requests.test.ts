/**
 * What one SDK call is billed as: SNS per 64 KB chunk of each message, SQS per 64 KB of a call's
 * payload, S3 by price class (core/pricing/billed-requests.ts).
 */
import test from "ava";
import {
  apiGatewayBilledRequests,
  s3BilledKey,
  s3RequestClass,
  snsBilledRequests,
  sqsBilledRequests,
} from "../../core/pricing/billed-requests.ts";

const KB = 1024;
const text = (bytes: number) => "x".repeat(bytes);

test("an SNS publish is one request per started 64 KB chunk of its message", (t) => {
  t.is(snsBilledRequests("Publish", { Message: "small" }), 1);
  t.is(snsBilledRequests("Publish", { Message: text(64 * KB) }), 1);
  t.is(snsBilledRequests("Publish", { Message: text(64 * KB + 1) }), 2);
  t.is(snsBilledRequests("Publish", { Message: text(256 * KB) }), 4);
});

test("an SNS message's attributes count toward its chunks", (t) => {
  const message = text(64 * KB - 10);
  t.is(snsBilledRequests("Publish", { Message: message }), 1);
  const attributes = { event: { DataType: "String", StringValue: "job.success" } };
  t.is(snsBilledRequests("Publish", { Message: message, MessageAttributes: attributes }), 2);
});

test("a PublishBatch of 10 small messages is billed as 10 requests, not one", (t) => {
  const entries = Array.from({ length: 10 }, (_, i) => ({ Id: String(i), Message: `{"job":${i}}` }));
  t.is(snsBilledRequests("PublishBatch", { PublishBatchRequestEntries: entries }), 10);
});

test("a PublishBatch counts each message's chunks on its own", (t) => {
  const entries = [
    { Id: "a", Message: text(100 * KB) },
    { Id: "b", Message: "small" },
  ];
  t.is(snsBilledRequests("PublishBatch", { PublishBatchRequestEntries: entries }), 3);
});

test("an SQS batch of 10 small messages is one request; its payload's 64 KB chunks decide", (t) => {
  const small = Array.from({ length: 10 }, (_, i) => ({ Id: String(i), MessageBody: text(KB) }));
  t.is(sqsBilledRequests("SendMessageBatch", { Entries: small }), 1);
  const large = Array.from({ length: 10 }, (_, i) => ({ Id: String(i), MessageBody: text(10 * KB) }));
  t.is(sqsBilledRequests("SendMessageBatch", { Entries: large }), 2);
  t.is(sqsBilledRequests("SendMessage", { MessageBody: text(256 * KB) }), 4);
});

test("an SQS receive is billed by the payload it returns; an empty one is still a request", (t) => {
  t.is(sqsBilledRequests("ReceiveMessage", { QueueUrl: "q" }, { Messages: [] }), 1);
  const messages = Array.from({ length: 10 }, () => ({ Body: text(20 * KB) }));
  t.is(sqsBilledRequests("ReceiveMessage", { QueueUrl: "q" }, { Messages: messages }), 4);
  t.is(sqsBilledRequests("DeleteMessageBatch", { QueueUrl: "q", Entries: [] }), 1);
});

test("S3 requests fall in their price class, and archive writes carry their storage class", (t) => {
  t.is(s3RequestClass("PutObject"), "put");
  t.is(s3RequestClass("CopyObject"), "put");
  t.is(s3RequestClass("ListObjectsV2"), "put");
  t.is(s3RequestClass("GetObject"), "get");
  t.is(s3RequestClass("HeadObject"), "get");
  t.is(s3RequestClass("DeleteObjects"), "free");
  t.is(s3RequestClass("RestoreObject"), "restore");
  t.is(s3BilledKey("PutObject", { Bucket: "b", Key: "k" }), "S3.PutObject");
  t.is(s3BilledKey("CopyObject", { StorageClass: "DEEP_ARCHIVE" }), "S3.CopyObject[DEEP_ARCHIVE]");
  t.is(
    s3BilledKey("RestoreObject", { RestoreRequest: { GlacierJobParameters: { Tier: "Expedited" } } }),
    "S3.RestoreObject[Expedited]",
  );
});

test("an HTTP API call is one request per started 512 KB", (t) => {
  t.is(apiGatewayBilledRequests(0), 1);
  t.is(apiGatewayBilledRequests(512 * KB), 1);
  t.is(apiGatewayBilledRequests(513 * KB), 2);
});
