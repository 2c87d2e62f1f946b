/**
 * Test helpers for the MLS layer: an MLS session on an E2E test client, recording what it
 * decrypted and refused.
 */
import type { ChatClientOptions } from '../options.js';
import { E2E, waitUntil, type TestClient } from '../../e2e/support.js';
import { directConversationId } from '../../system/core/ids.js';
import { MlsSession, sendEncryptedMedia, type DecryptedMessage, type MlsSessionOptions, type RejectedMessage } from './index.js';

/** An MLS session and what it decrypted, refused and failed at. */
export interface MlsRecorder {
  userId: string;
  deviceId: string;
  session: MlsSession;
  received: DecryptedMessage[];
  rejected: RejectedMessage[];
  errors: Error[];
  /** Texts decrypted in a conversation, in order. */
  texts(conversationId: string): string[];
}

export type MlsDevice = TestClient & MlsRecorder;

/** Wraps a (not yet started) session so a test can see what it does. */
export function recordSession(userId: string, deviceId: string, session: MlsSession): MlsRecorder {
  const recorder: MlsRecorder = {
    userId,
    deviceId,
    session,
    received: [],
    rejected: [],
    errors: [],
    texts: (conversationId) => recorder.received.filter((m) => m.conversationId === conversationId).map((m) => m.text ?? ''),
  };
  session.on('message', (m) => recorder.received.push(m));
  session.on('rejected', (r) => recorder.rejected.push(r));
  session.on('error', (e) => recorder.errors.push(e));
  return recorder;
}

/** Connects the device and starts its MLS session (KeyPackages uploaded). */
export async function mlsDevice(
  e2e: E2E,
  userId: string,
  deviceId: string,
  options: MlsSessionOptions = {},
  clientOptions: Partial<ChatClientOptions> = {},
): Promise<MlsDevice> {
  const entry = await e2e.client(userId, deviceId, clientOptions);
  const session = new MlsSession(entry.client, { keyPackagesTarget: 4, joinStaggerMs: 20, ...options });
  const device: MlsDevice = { ...entry, ...recordSession(userId, deviceId, session) };
  await session.start();
  return device;
}

/** Waits until the device has decrypted exactly these texts in the conversation (in order). */
export async function expectTexts(device: MlsRecorder, conversationId: string, texts: string[], timeoutMs = 10_000): Promise<void> {
  await waitUntil(
    () => device.texts(conversationId).length >= texts.length,
    `${device.userId}/${device.deviceId} to decrypt ${texts.length} messages in ${conversationId}`,
    timeoutMs,
  ).catch((error: unknown) => {
    throw new Error(
      `${(error as Error).message}; has ${JSON.stringify(device.texts(conversationId))}, rejected ${JSON.stringify(device.rejected)}`,
    );
  });
  if (JSON.stringify(device.texts(conversationId)) !== JSON.stringify(texts)) {
    throw new Error(
      `${device.userId}/${device.deviceId} decrypted ${JSON.stringify(device.texts(conversationId))}, expected ${JSON.stringify(texts)}`,
    );
  }
}

/** A device whose connection can be cut and held down (its token provider waits for the gate). */
export interface OfflineSwitch {
  clientOptions: Partial<ChatClientOptions>;
  /** Drops the device's connections and keeps it from reconnecting until `online()`. */
  offline(): void;
  online(): void;
}

export function offlineSwitch(e2e: E2E, userId: string, deviceId: string): OfflineSwitch {
  let gate: Promise<void> = Promise.resolve();
  let open: () => void = () => undefined;
  const token = e2e.token(userId, deviceId);
  return {
    clientOptions: {
      token: async () => {
        await gate;
        return token;
      },
    },
    offline() {
      gate = new Promise((resolve) => (open = resolve));
      for (const session of e2e.tap.sessionsOf(userId, deviceId)) session.close(1001, 'test: device goes offline');
    },
    online() {
      open();
    },
  };
}

/**
 * A run touching every path that carries content: 1:1 and group messages, adding and removing a
 * member, a new device joining, and encrypted media. Every text and the media bytes carry one of
 * the returned markers; afterwards none of them may appear in the server's stores or logs.
 */
export async function confidentialityScenario(
  connect: (name: string, deviceId: string) => Promise<MlsRecorder>,
  nonce: string,
  /** The user id of each of alice, bob, carol, dave (a shared database needs run-unique users). */
  user: (name: string) => string = (name) => name,
): Promise<string[]> {
  const markers: string[] = [];
  const marker = (label: string) => {
    const m = `PLAINTEXT-${nonce}-${label}`;
    markers.push(m);
    return m;
  };
  const alice = await connect('alice', 'phone');
  const bob = await connect('bob', 'phone');
  const carol = await connect('carol', 'phone');
  const dave = await connect('dave', 'phone');
  const dm = directConversationId(user('alice'), user('bob'));
  const dmTexts = [marker('dm-1'), marker('dm-2'), marker('dm-3')];
  for (const text of dmTexts) await alice.session.send(dm, { text });
  await bob.session.send(dm, { text: marker('dm-reply') });

  const group = await alice.session.createGroup(`group ${nonce}`, [user('bob'), user('carol')]);
  await alice.session.send(group, { text: marker('group-1') });
  await waitUntil(() => carol.session.epoch(group) !== undefined, 'carol to join the group', 10_000);
  await carol.session.send(group, { text: marker('group-2') });
  await alice.session.addMembers(group, [user('dave')]);
  await dave.session.send(group, { text: marker('group-3') });
  await alice.session.removeMember(group, user('carol'));
  await alice.session.send(group, { text: marker('group-4') });
  const bobLaptop = await connect('bob', 'laptop');
  await waitUntil(() => bobLaptop.session.epoch(dm) !== undefined, 'bob/laptop to join the 1:1 group', 10_000);
  await alice.session.send(dm, { text: marker('dm-4') });
  const photo = Buffer.from(`${marker('media')} `.repeat(64));
  await sendEncryptedMedia(alice.session, dm, photo, 'image/png', { caption: marker('caption') });

  await expectTexts(
    bob,
    dm,
    [...dmTexts, markers[markers.length - 3]!, markers[markers.length - 1]!].filter((t) => !t.endsWith('-media')),
  );
  await expectTexts(bobLaptop, dm, [markers[markers.length - 3]!, markers[markers.length - 1]!]);
  await waitUntil(() => bob.texts(group).length === 4, 'bob to read the group');
  for (const device of [alice, bob, carol, dave, bobLaptop]) {
    if (device.rejected.length > 0 || device.errors.length > 0)
      throw new Error(`${device.userId}/${device.deviceId}: ${JSON.stringify(device.rejected)} ${device.errors.join('; ')}`);
  }
  return markers;
}
