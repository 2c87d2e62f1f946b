/**
 * Creates the media bucket named by S3_BUCKET on S3_ENDPOINT (idempotent). Used by the compose
 * staging, where the S3 server starts empty; `npm run services -- up` does the same locally.
 */
import { BucketAlreadyExists, BucketAlreadyOwnedByYou, CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { s3ConfigFromEnv } from '../../system/adapters/s3/s3-blob-store.js';

const config = s3ConfigFromEnv(process.env);
const client = new S3Client({
  endpoint: config.endpoint,
  region: config.region,
  forcePathStyle: true,
  credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey },
});
try {
  await client.send(new CreateBucketCommand({ Bucket: config.bucket }));
  process.stdout.write(`created bucket ${config.bucket}\n`);
} catch (error) {
  if (!(error instanceof BucketAlreadyOwnedByYou || error instanceof BucketAlreadyExists)) throw error;
  process.stdout.write(`bucket ${config.bucket} exists\n`);
}
