/**
 * DynamoDB request units: what ConsumedCapacity reports, and DynamoDB's rules applied to the
 * sizes a request shows (core/pricing/dynamodb-units.ts).
 */
import test from "ava";
import {
  itemSize,
  numberSize,
  reportedUnits,
  type TableSchema,
  unitsByRule,
  updatedAttributes,
} from "../../core/pricing/dynamodb-units.ts";

const KB = 1024;
/** A table shaped like the jobs table: an LSI on State, a keys-only GSI on JobId. */
const JOBS: TableSchema = {
  hashKey: "SessionId",
  rangeKey: "JobId",
  indexes: [
    {
      name: "ByState",
      hashKey: "SessionId",
      rangeKey: "State",
      projection: "INCLUDE",
      nonKeyAttributes: ["Username"],
    },
    { name: "ByJob", hashKey: "JobId", rangeKey: "Username", projection: "KEYS_ONLY", nonKeyAttributes: [] },
  ],
};
const tables = new Map([
  ["jobs", JOBS],
  ["plain", { hashKey: "pk", indexes: [] }],
]);
const s = (value: string) => ({ S: value });

test("an item's size is its names and values, the same marshalled or plain", (t) => {
  const plain = { pk: "abc", n: 12345, flag: true, list: ["a", 1], map: { k: "v" } };
  const marshalled = {
    pk: s("abc"),
    n: { N: "12345" },
    flag: { BOOL: true },
    list: { L: [s("a"), { N: "1" }] },
    map: { M: { k: s("v") } },
  };
  t.is(itemSize(plain, "native"), itemSize(marshalled, "marshalled"));
  // pk 2+3, n 1+4, flag 4+1, list 4+(3+1+1+1+2), map 3+(3+1+1+1)
  t.is(itemSize(plain, "native"), 5 + 5 + 5 + 12 + 9);
  t.is(numberSize("0.000120"), 2, "two significant digits, one byte, plus one");
  t.is(numberSize("-1.5e10"), 2);
});

test("a GetItem reads a unit per started 4 KB, halved when eventually consistent", (t) => {
  const item = { pk: s("a"), blob: s("x".repeat(5 * KB)) };
  t.is(unitsByRule("GetItem", { TableName: "plain" }, { Item: item }, "marshalled").read, 1);
  t.is(
    unitsByRule("GetItem", { TableName: "plain", ConsistentRead: true }, { Item: item }, "marshalled").read,
    2,
  );
  t.is(
    unitsByRule("GetItem", { TableName: "plain" }, {}, "marshalled").read,
    0.5,
    "a missing item still costs",
  );
});

test("a Query sums its items before rounding; a BatchGetItem rounds each item", (t) => {
  const items = [1, 2, 3].map((i) => ({ pk: `p${i}`, blob: "x".repeat(2 * KB) }));
  t.is(unitsByRule("Query", { TableName: "plain" }, { Items: items, ScannedCount: 3 }, "native").read, 1);
  const batch = unitsByRule(
    "BatchGetItem",
    { RequestItems: { plain: { Keys: [{ pk: "p1" }, { pk: "p2" }, { pk: "p3" }, { pk: "gone" }] } } },
    { Responses: { plain: items } },
    "native",
  );
  t.is(batch.read, (3 + 1) * 0.5, "three items of one unit each, and the missing key's least read");
});

test("a transaction's units are doubled, its index writes too", (t) => {
  const small = { pk: s("a"), v: s("v") };
  const large = { pk: s("b"), v: s("x".repeat(1.5 * KB)) };
  const put = unitsByRule(
    "TransactWriteItems",
    {
      TransactItems: [
        { Put: { TableName: "plain", Item: small } },
        { Put: { TableName: "plain", Item: large } },
      ],
    },
    {},
    "marshalled",
  );
  t.is(put.write, 2 * 1 + 2 * 2);
  const update = {
    TableName: "jobs",
    Key: { SessionId: s("s"), JobId: s("j") },
    UpdateExpression: "SET #state = :state",
    ExpressionAttributeNames: { "#state": "State" },
    ExpressionAttributeValues: { ":state": s("success") },
  };
  t.is(unitsByRule("UpdateItem", update, {}, "marshalled", tables).write, 1 + 2, "the LSI entry moves");
  t.is(
    unitsByRule("TransactWriteItems", { TransactItems: [{ Update: update }] }, {}, "marshalled", tables)
      .write,
    2 * (1 + 2),
  );
});

test("what ConsumedCapacity reports is summed as it is, a transaction's doubling included", (t) => {
  t.deepEqual(reportedUnits("GetItem", { ConsumedCapacity: { TableName: "t", CapacityUnits: 0.5 } }), {
    read: 0.5,
    write: 0,
  });
  const transaction = {
    ConsumedCapacity: [
      { TableName: "jobs", CapacityUnits: 6, WriteCapacityUnits: 6 },
      { TableName: "results", CapacityUnits: 4, WriteCapacityUnits: 4 },
    ],
  };
  t.deepEqual(reportedUnits("TransactWriteItems", transaction), { read: 0, write: 10 });
  t.is(
    reportedUnits("TransactWriteItems", { ConsumedCapacity: [] }),
    undefined,
    "moto's empty list reports nothing",
  );
});

test("a new job's put writes its table item and an entry in each index it has the keys of", (t) => {
  const item = { SessionId: "s", JobId: "j", Username: "u", State: "create" };
  t.is(unitsByRule("PutItem", { TableName: "jobs", Item: item }, {}, "native", tables).write, 1 + 2);
  const noUser = { SessionId: "s", JobId: "j", State: "create" };
  t.is(unitsByRule("PutItem", { TableName: "jobs", Item: noUser }, {}, "native", tables).write, 1 + 1);
  const unknown = unitsByRule("PutItem", { TableName: "other", Item: item }, {}, "native", tables);
  t.is(unknown.write, 1);
  t.is(unknown.indexesUnknown, 1, "a table without a schema says its index writes are not counted");
});

test("an update that touches no index attribute writes only the table", (t) => {
  const update = {
    TableName: "jobs",
    Key: { SessionId: "s", JobId: "j" },
    UpdateExpression: "SET Heartbeat = :now",
    ExpressionAttributeValues: { ":now": "2026-01-01T00:00:00Z" },
  };
  const units = unitsByRule("UpdateItem", update, {}, "native", tables);
  t.is(units.write, 1);
  t.is(units.sizeNotVisible, 1, "an update's item size is counted at its least, and said so");
});

test("a failed conditional write still costs its table units, not its index writes", (t) => {
  const item = { SessionId: "s", JobId: "j", Username: "u", State: "create" };
  t.is(unitsByRule("PutItem", { TableName: "jobs", Item: item }, {}, "native", tables, true).write, 1);
});

test("an update expression names the top-level attributes it sets, removes and adds to", (t) => {
  t.deepEqual(
    updatedAttributes(
      "SET #s = :s, Running = if_not_exists(Running, :now), a.b = :x REMOVE Lease ADD n :one",
      {
        "#s": "State",
      },
    ),
    ["State", "Running", "a", "Lease", "n"],
  );
});
