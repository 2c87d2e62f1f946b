import { deviceKey, type DeviceAddress } from '../core/ids.js';

/*
 * What server and clients agree on about MLS (RFC 9420). The server never sees MLS plaintext; it
 * checks KeyPackages at upload (cipher suite, signature, credential) and orders commits per epoch.
 */

/** The one cipher suite this deployment speaks (RFC 9420 §17.1, id 1): X25519, AES-128-GCM, SHA-256, Ed25519. */
export const MLS_CIPHERSUITE = 'MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519' as const;

/**
 * The identity in a device's MLS basic credential: `<userId>/<deviceId>` (neither id may contain
 * `/`). The key directory refuses KeyPackages whose credential names another device than the
 * uploader, which binds every group leaf to an authenticated device.
 */
export function mlsIdentity(device: DeviceAddress): string {
  return deviceKey(device);
}

/** The device an MLS identity names, or undefined when it is not `<userId>/<deviceId>`. */
export function parseMlsIdentity(identity: string): DeviceAddress | undefined {
  const parts = identity.split('/');
  if (parts.length !== 2 || !parts[0] || !parts[1]) return undefined;
  return { userId: parts[0], deviceId: parts[1] };
}
