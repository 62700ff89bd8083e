/** @module results/job-records — stored jobs to API records, fetching outputs kept in S3. */
import { mapLimit } from "../concurrency.ts";
import { type JobItem, type JobRecord, jobItemToRecord } from "../jobs/job.ts";
import { getOutputJson } from "./output-store.ts";

const S3_READ_CONCURRENCY = 8;

/** Full records, with every output in place (large ones read from S3). */
export async function jobItemsToFullRecords(items: JobItem[]): Promise<JobRecord[]> {
  return mapLimit(items, S3_READ_CONCURRENCY, async (item) =>
    item.OutputKey
      ? jobItemToRecord(item, JSON.parse(await getOutputJson(item.OutputKey)))
      : jobItemToRecord(item),
  );
}
