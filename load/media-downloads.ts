import { downloadMedia, isChatClientError, type ConversationEvent } from '../sdk/index.js';
import type { Random } from '../system/ports/random.js';
import type { VirtualDevice } from './device-fleet.js';
import type { LoadMeasurements } from './measurements.js';

/** What the run's recipients fetched of the media sent to them (the summary's `media`). */
export interface MediaDownloadTally {
  downloaded: number;
  downloaded_bytes: number;
  /** Downloads the system failed (the device closing mid-download is not counted). */
  download_failures: number;
  /** Downloads whose length differs from the size the message declared: corrupted or wrong media. */
  size_mismatches: number;
}

/**
 * Recipients fetching the media of messages they receive (`live.media_downloads`): each plaintext
 * media message a device is handed is downloaded with that share, through a signed URL as an app
 * showing the picture would, and its length is checked against the size the sender declared.
 * Encrypted conversations' media is inside the ciphertext, out of this check's reach.
 */
export class MediaDownloads {
  readonly tally: MediaDownloadTally = { downloaded: 0, downloaded_bytes: 0, download_failures: 0, size_mismatches: 0 };
  private readonly inFlight = new Set<Promise<void>>();
  private stopped = false;

  constructor(
    private readonly share: number,
    private readonly random: Random,
    private readonly measurements: LoadMeasurements,
    private readonly isEncryptedConversation: (conversationId: string) => boolean = () => false,
  ) {}

  onEvent(device: VirtualDevice, event: ConversationEvent): void {
    // The share is tested first: a scenario without downloads draws no random number here.
    if (this.share <= 0 || this.stopped || event.kind !== 'message' || !event.media) return;
    if (this.isEncryptedConversation(event.conversationId) || this.random.nextFloat() >= this.share) return;
    const client = device.client;
    if (!client) return;
    const declaredBytes = event.media.sizeBytes;
    const download = downloadMedia(client, event.conversationId, event.media.objectKey).then(
      (bytes) => {
        this.tally.downloaded++;
        this.tally.downloaded_bytes += bytes.byteLength;
        if (bytes.byteLength !== declaredBytes) {
          this.tally.size_mismatches++;
          this.measurements.onError('media:size_mismatch');
        }
      },
      (error: unknown) => {
        const code = isChatClientError(error) ? error.code : 'download_failed';
        // Our own churn closed the client: the user went away, not a system error.
        if (code === 'CLOSED') return;
        this.tally.download_failures++;
        this.measurements.onError(`media:${code}`);
      },
    );
    this.inFlight.add(download);
    void download.finally(() => this.inFlight.delete(download));
  }

  /** No new downloads; waits for those under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.allSettled([...this.inFlight]);
  }
}
