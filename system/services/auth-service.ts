import { ChatError } from '../core/errors.js';
import type { DeviceAddress } from '../core/ids.js';
import type { IssuedToken, TokenClaims } from '../ports/token-authority.js';
import type { Caller } from './caller.js';
import type { CoreDeps } from './deps.js';

/**
 * Authenticates connections and links devices. A valid token for a device not yet linked links
 * it (up to devicesPerUserMax); a device that was unlinked needs a token issued after that.
 */
export class AuthService {
  constructor(private readonly deps: Pick<CoreDeps, 'clock' | 'limits' | 'directory' | 'inbox' | 'tokens'>) {}

  /** Development helper (the dev token endpoint and CLI): a token for any well-formed user/device. */
  issueToken(device: DeviceAddress, ttlMs = this.deps.limits.tokenTtlMs): Promise<IssuedToken> {
    return this.deps.tokens.issue(device, ttlMs);
  }

  async authenticate(token: string): Promise<TokenClaims> {
    const claims = await this.deps.tokens.verify(token);
    const unlinkedAt = await this.deps.directory.unlinkedAtMs(claims);
    if (unlinkedAt !== undefined && claims.issuedAtMs <= unlinkedAt) {
      throw new ChatError('DEVICE_UNKNOWN', `device ${claims.deviceId} was unlinked; sign in again`);
    }
    const outcome = await this.deps.directory.linkDevice(claims, this.deps.clock.nowMs(), this.deps.limits.devicesPerUserMax);
    if (outcome === 'limit-reached') {
      throw new ChatError('DEVICE_LIMIT', `user ${claims.userId} already has ${this.deps.limits.devicesPerUserMax} devices`);
    }
    return claims;
  }

  async unlink(caller: Caller, deviceId: string): Promise<DeviceAddress> {
    const target = { userId: caller.userId, deviceId };
    if (!(await this.deps.directory.getDevice(target))) throw new ChatError('DEVICE_UNKNOWN', `no linked device ${deviceId}`);
    await this.deps.directory.unlinkDevice(target, this.deps.clock.nowMs());
    await this.deps.inbox.clear(target);
    return target;
  }
}
