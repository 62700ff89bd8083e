/** @module aws/s3-prefix — deleting everything under a key prefix (1,000 keys per DeleteObjects). */
import { s3Module } from "./client-modules.ts";

export async function deletePrefix(bucket: string, prefix: string): Promise<number> {
  const { DeleteObjectsCommand, paginateListObjectsV2, s3Client } = await s3Module();
  let deleted = 0;
  for await (const page of paginateListObjectsV2(
    { client: s3Client() },
    { Bucket: bucket, Prefix: prefix },
  )) {
    const keys = (page.Contents ?? []).map((object) => ({ Key: object.Key! }));
    if (keys.length === 0) continue;
    await s3Client().send(
      new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys, Quiet: true } }),
    );
    deleted += keys.length;
  }
  return deleted;
}
