import { ChatError } from '../core/errors.js';
import type { DeviceAddress } from '../core/ids.js';
import { TokenService, type TokenClaims } from './auth-tokens.js';
import type { Caller } from './caller.js';
import type { CoreDeps } from './deps.js';

/**
 * Authenticates connections and links devices. A valid token for a device not yet linked links
 * it (up to devicesPerUserMax); a device that was unlinked needs a token issued after that.
 */
export class AuthService {
  readonly tokens: TokenService;

  constructor(private readonly deps: Pick<CoreDeps, 'clock' | 'limits' | 'directory' | 'inbox' | 'tokenSecret'>) {
    this.tokens = new TokenService(deps.tokenSecret, deps.clock);
  }

  /** Development helper (the dev token endpoint and CLI): a token for any well-formed user/device. */
  issueToken(device: DeviceAddress, ttlMs = this.deps.limits.tokenTtlMs): { token: string; claims: TokenClaims } {
    return this.tokens.issue(device, ttlMs);
  }

  async authenticate(token: string): Promise<TokenClaims> {
    const claims = this.tokens.verify(token);
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
