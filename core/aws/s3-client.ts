/**
 * @module aws/s3-client
 * The process's S3 client (aws/clients.ts), and the S3 commands core sends with it. Core loads
 * this module through aws/client-modules.ts where it needs S3: the S3 SDK is a fifth of a bundle, and
 * most requests of the functions that can touch S3 never do (large outputs, deletes, staged
 * files), so it is a chunk of its own that a function loads on first use (handlers/build.ts).
 */
import { S3Client } from "@aws-sdk/client-s3";
import { config } from "../config.ts";
import { clientOptions, sharedClient } from "./clients.ts";

export {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  NoSuchKey,
  PutObjectCommand,
  paginateListObjectsV2,
  RestoreObjectCommand,
} from "@aws-sdk/client-s3";

export function s3Client(): S3Client {
  return sharedClient(
    "S3",
    () =>
      new S3Client({
        ...clientOptions(),
        // moto serves path-style only; harmless on AWS for our bucket names.
        forcePathStyle: Boolean(config.awsEndpoint),
        // Presigned PUTs must not embed the checksum of an empty body (see notes/moto.md).
        requestChecksumCalculation: "WHEN_REQUIRED",
        responseChecksumValidation: "WHEN_REQUIRED",
      }),
  );
}
