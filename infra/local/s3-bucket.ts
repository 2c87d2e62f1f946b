/**
 * S3 client setup for the local gateway and the bucket every `up` makes sure exists.
 * Kept apart from versitygw.ts so that commands which never touch S3 do not load the AWS SDK.
 */
import { CreateBucketCommand, HeadBucketCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import type { LocalConfig } from './config.js';
import { endpoint } from './versitygw.js';

/** A client for the local gateway, with the settings versitygw needs. */
export function localS3Client(config: LocalConfig): S3Client {
  return new S3Client({
    endpoint: endpoint(config),
    region: config.s3.region,
    credentials: { accessKeyId: config.s3.accessKeyId, secretAccessKey: config.s3.secretAccessKey },
    // No wildcard DNS for bucket.127.0.0.1: buckets go in the path.
    forcePathStyle: true,
    // Newer SDKs add CRC checksums to every request by default; only send them when an API needs them.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** Creates the configured bucket if missing. Returns true if it was created now. */
export async function ensureBucket(config: LocalConfig): Promise<boolean> {
  const client = localS3Client(config);
  try {
    return await createIfMissing(client, config.s3.bucket);
  } finally {
    client.destroy();
  }
}

async function createIfMissing(client: S3Client, Bucket: string): Promise<boolean> {
  try {
    await client.send(new HeadBucketCommand({ Bucket }));
    return false;
  } catch (err) {
    if (!(err instanceof S3ServiceException) || err.$metadata.httpStatusCode !== 404) throw err;
  }
  try {
    await client.send(new CreateBucketCommand({ Bucket }));
    return true;
  } catch (err) {
    // Another `up` may have created it between our HEAD and CREATE.
    if (err instanceof S3ServiceException && err.name === 'BucketAlreadyOwnedByYou') return false;
    throw err;
  }
}
