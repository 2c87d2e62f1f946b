/** Why the MLS layer refused to send, or refused a received message. */
export const MlsErrorCodes = {
  BAD_ENVELOPE: 'The message body is not an MLS envelope of this SDK (or is cut short).',
  NOT_IN_GROUP: "This device is not (or no longer) a member of the conversation's MLS group.",
  WRONG_GROUP: 'The MLS message belongs to another group (another conversation): replayed or misrouted.',
  DECRYPT_FAILED: 'The MLS message did not decrypt or authenticate (tampered, replayed, or from a retired epoch).',
  SENDER_MISMATCH: 'The MLS sender is not the device the server named as sender, or the message is bound to another message id.',
  BAD_PAYLOAD: 'The decrypted payload is not a message this SDK understands.',
  BAD_KEY_PACKAGE: 'A claimed KeyPackage does not decode, verify, or name the device it was claimed for.',
  PEER_NOT_READY: 'A device to add has no KeyPackage in the directory (it never started an MLS session).',
  MEMBERS_UNKNOWN: "The group's members are not known to this session yet (its creation event was not seen).",
  JOIN_TIMEOUT: 'Another device created the group, and its Welcome did not arrive in time.',
  EPOCH_CONFLICT: 'Commits kept losing the race for the epoch; try again later.',
  MEDIA_DIGEST_MISMATCH: 'The downloaded media does not match the digest in the message: it was altered.',
} as const;

export type MlsErrorCode = keyof typeof MlsErrorCodes;

export class MlsSessionError extends Error {
  constructor(
    readonly code: MlsErrorCode,
    message: string = MlsErrorCodes[code],
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'MlsSessionError';
  }
}
