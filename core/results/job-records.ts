/** @module results/job-records — stored jobs to API records, fetching outputs kept in S3. */
import { mapLimit } from "../concurrency.ts";
import { type JobItem, type JobRecord, jobItemToRecord } from "../jobs/job.ts";
import { getOutputJson } from "./output-store.ts";

const S3_READ_CONCURRENCY = 8;

async function fullRecord(item: JobItem): Promise<JobRecord> {
  return item.OutputKey && !item.ArchiveUnit
    ? jobItemToRecord(item, JSON.parse(await getOutputJson(item.OutputKey)))
    : jobItemToRecord(item);
}

/** Full records, with every output in place (large ones read from S3). */
export async function jobItemsToFullRecords(items: JobItem[]): Promise<JobRecord[]> {
  return mapLimit(items, S3_READ_CONCURRENCY, fullRecord);
}

/**
 * The longest leading run of `items` whose full records, as JSON, fit in `budgetBytes`: a
 * result page's answer must fit one Lambda response. Outputs are fetched a window at a time, so
 * a page that does not fit stops costing S3 reads where it stops fitting.
 */
export async function fullRecordsWithin(items: JobItem[], budgetBytes: number): Promise<JobRecord[]> {
  const records: JobRecord[] = [];
  let bytes = 2; // the brackets of the array
  for (let start = 0; start < items.length; start += S3_READ_CONCURRENCY) {
    const window = await mapLimit(
      items.slice(start, start + S3_READ_CONCURRENCY),
      S3_READ_CONCURRENCY,
      fullRecord,
    );
    for (const record of window) {
      bytes += Buffer.byteLength(JSON.stringify(record)) + 1;
      if (bytes > budgetBytes) return records;
      records.push(record);
    }
  }
  return records;
}
