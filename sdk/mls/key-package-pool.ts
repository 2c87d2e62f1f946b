import type { KeyPackage, PrivateKeyPackage } from 'ts-mls';
import type { DeviceAddress } from '../../system/core/ids.js';
import type { ChatClient } from '../client.js';
import { encodeKeyPackage, newKeyPackage, type KeyPackagePair } from './suite.js';

/**
 * This device's KeyPackages: the private halves stay here, the public halves go to the key
 * directory. A single-use package is forgotten once a Welcome used it; the last-resort package
 * is kept (the directory may hand it out again).
 */
export class KeyPackagePool {
  private readonly byRef = new Map<string, KeyPackagePair>();
  private lastResortRef: string | undefined;
  private topUp: Promise<void> | undefined;

  constructor(
    private readonly client: ChatClient,
    private readonly device: DeviceAddress,
    private readonly target: number,
    private readonly lowWatermark: number,
    /** Top-ups run in the background: their failures are reported here. */
    private readonly onError: (error: Error) => void,
  ) {}

  /** Uploads `target` single-use packages and a last-resort one. */
  async publish(): Promise<void> {
    const lastResort = await newKeyPackage(this.device);
    this.byRef.set(lastResort.ref, lastResort);
    this.lastResortRef = lastResort.ref;
    await this.upload(this.target, encodeKeyPackage(lastResort.publicPackage));
  }

  /** The package (public and private) a Welcome names by its ref, if it is ours. */
  find(ref: string): { publicPackage: KeyPackage; privatePackage: PrivateKeyPackage } | undefined {
    return this.byRef.get(ref);
  }

  /** A Welcome used this package: forget it (unless it is the reusable last resort) and top up when low. */
  used(ref: string): void {
    if (ref !== this.lastResortRef) this.byRef.delete(ref);
    this.topUp ??= this.replenish()
      .catch((error: unknown) => this.onError(error instanceof Error ? error : new Error(String(error))))
      .finally(() => {
        this.topUp = undefined;
      });
  }

  /** Resolves when any top-up in progress is done (tests, shutdown). */
  async settled(): Promise<void> {
    await this.topUp;
  }

  private async replenish(): Promise<void> {
    const { available } = await this.client.countKeyPackages();
    if (available >= this.lowWatermark) return;
    await this.upload(this.target - available);
  }

  private async upload(count: number, lastResort?: string): Promise<void> {
    const fresh: KeyPackagePair[] = [];
    for (let i = 0; i < count; i++) fresh.push(await newKeyPackage(this.device));
    for (const pair of fresh) this.byRef.set(pair.ref, pair);
    await this.client.uploadKeyPackages(
      fresh.map((p) => encodeKeyPackage(p.publicPackage)),
      lastResort,
    );
  }
}
