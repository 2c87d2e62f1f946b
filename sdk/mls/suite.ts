import {
  decodeMlsMessage,
  defaultCapabilities,
  defaultLifetime,
  encodeMlsMessage,
  generateKeyPackage,
  getCiphersuiteFromName,
  getCiphersuiteImpl,
  type CiphersuiteImpl,
  type Credential,
  type KeyPackage,
  type LeafNode,
  type PrivateKeyPackage,
} from 'ts-mls';
import { makeKeyPackageRef, verifyKeyPackage } from 'ts-mls/keyPackage.js';
import type { DeviceAddress } from '../../system/core/ids.js';
import { MLS_CIPHERSUITE, mlsIdentity, parseMlsIdentity } from '../../system/protocol/mls.js';
import { MlsSessionError } from './errors.js';

let suite: Promise<CiphersuiteImpl> | undefined;

/** The deployment's cipher suite (shared by every session of the process). */
export function mlsSuite(): Promise<CiphersuiteImpl> {
  suite ??= getCiphersuiteImpl(getCiphersuiteFromName(MLS_CIPHERSUITE));
  return suite;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

export function fromUtf8(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/** A device's basic credential: its identity is `<userId>/<deviceId>`. */
export function credentialOf(device: DeviceAddress): Credential {
  return { credentialType: 'basic', identity: utf8(mlsIdentity(device)) };
}

/** The device a leaf belongs to, from its basic credential. */
export function deviceOfLeaf(leaf: LeafNode): DeviceAddress | undefined {
  if (leaf.credential.credentialType !== 'basic') return undefined;
  return parseMlsIdentity(fromUtf8(leaf.credential.identity));
}

export interface KeyPackagePair {
  publicPackage: KeyPackage;
  privatePackage: PrivateKeyPackage;
  /** KeyPackageRef, hex. */
  ref: string;
}

export async function newKeyPackage(device: DeviceAddress): Promise<KeyPackagePair> {
  const impl = await mlsSuite();
  const pair = await generateKeyPackage(credentialOf(device), defaultCapabilities(), defaultLifetime, [], impl);
  return { ...pair, ref: await keyPackageRef(pair.publicPackage) };
}

export async function keyPackageRef(keyPackage: KeyPackage): Promise<string> {
  return Buffer.from(await makeKeyPackageRef(keyPackage, (await mlsSuite()).hash)).toString('hex');
}

export function encodeKeyPackage(keyPackage: KeyPackage): string {
  return Buffer.from(encodeMlsMessage({ keyPackage, wireformat: 'mls_key_package', version: 'mls10' })).toString('base64');
}

/**
 * Decodes a claimed KeyPackage and checks it is what the directory said: our cipher suite, a
 * valid signature, and a credential naming exactly the device it was listed under.
 */
export async function decodeClaimedKeyPackage(base64: string, expected: DeviceAddress): Promise<KeyPackage> {
  const decoded = decodeMlsMessage(Buffer.from(base64, 'base64'), 0);
  const message = decoded?.[0];
  if (!message || message.wireformat !== 'mls_key_package')
    throw new MlsSessionError('BAD_KEY_PACKAGE', `the KeyPackage claimed for ${mlsIdentity(expected)} does not decode`);
  const keyPackage = message.keyPackage;
  const owner = deviceOfLeaf(keyPackage.leafNode);
  if (!owner || mlsIdentity(owner) !== mlsIdentity(expected)) {
    throw new MlsSessionError(
      'BAD_KEY_PACKAGE',
      `the KeyPackage claimed for ${mlsIdentity(expected)} names ${owner ? mlsIdentity(owner) : 'no device'}`,
    );
  }
  if (keyPackage.cipherSuite !== MLS_CIPHERSUITE || !(await verifyKeyPackage(keyPackage, (await mlsSuite()).signature))) {
    throw new MlsSessionError(
      'BAD_KEY_PACKAGE',
      `the KeyPackage claimed for ${mlsIdentity(expected)} is not a valid ${MLS_CIPHERSUITE} package`,
    );
  }
  return keyPackage;
}
