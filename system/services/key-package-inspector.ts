import { decodeMlsMessage, getCiphersuiteFromName, getCiphersuiteImpl, type CiphersuiteImpl } from 'ts-mls';
import { makeKeyPackageRef, verifyKeyPackage } from 'ts-mls/keyPackage.js';
import { ChatError } from '../core/errors.js';
import { MLS_CIPHERSUITE } from '../protocol/mls.js';

/** What the key directory needs to know about an uploaded KeyPackage. */
export interface InspectedKeyPackage {
  /** The KeyPackageRef (RFC 9420 §5.2), hex: the package's stable id. */
  id: string;
  /** The identity of its basic credential (`<userId>/<deviceId>`). */
  identity: string;
}

/**
 * Parses and checks one encoded KeyPackage (an MLSMessage with wire format mls_key_package).
 * A world may substitute a cheaper one (the simulator charges modelled CPU time instead).
 */
export interface KeyPackageInspector {
  /** Rejects with KEY_PACKAGE_INVALID when the bytes are not a well-formed, correctly signed package of our suite. */
  inspect(bytes: Uint8Array): Promise<InspectedKeyPackage>;
}

let suite: Promise<CiphersuiteImpl> | undefined;

/** The RFC 9420 inspector: decode, cipher suite, basic credential, signature (the checks of §10.1 that need no group). */
export const mlsKeyPackageInspector: KeyPackageInspector = {
  async inspect(bytes) {
    suite ??= getCiphersuiteImpl(getCiphersuiteFromName(MLS_CIPHERSUITE));
    const impl = await suite;
    let decoded: ReturnType<typeof decodeMlsMessage>;
    try {
      decoded = decodeMlsMessage(bytes, 0);
    } catch {
      decoded = undefined;
    }
    if (!decoded) throw invalid('the bytes do not decode as an MLS message');
    const [message, usedBytes] = decoded;
    if (usedBytes !== bytes.byteLength) throw invalid(`${bytes.byteLength - usedBytes} bytes trail the MLS message`);
    if (message.wireformat !== 'mls_key_package') throw invalid(`the MLS message is a ${message.wireformat}, not a key package`);
    const keyPackage = message.keyPackage;
    if (message.version !== 'mls10' || keyPackage.version !== 'mls10') throw invalid('only MLS 1.0 key packages are accepted');
    if (keyPackage.cipherSuite !== MLS_CIPHERSUITE)
      throw invalid(`cipher suite ${keyPackage.cipherSuite} is not supported; use ${MLS_CIPHERSUITE}`);
    const credential = keyPackage.leafNode.credential;
    if (credential.credentialType !== 'basic') throw invalid('only basic credentials are accepted');
    if (!(await verifyKeyPackage(keyPackage, impl.signature))) throw invalid('the key package signature does not verify');
    const identity = new TextDecoder('utf-8', { fatal: false }).decode(credential.identity);
    const ref = await makeKeyPackageRef(keyPackage, impl.hash);
    return { id: Buffer.from(ref).toString('hex'), identity };
  },
};

function invalid(reason: string): ChatError {
  return new ChatError('KEY_PACKAGE_INVALID', `invalid KeyPackage: ${reason}`);
}
