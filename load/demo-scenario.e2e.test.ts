import { describe, expect, it } from 'vitest';
import type { History } from '../checker/history.js';
import { readScenario } from '../scenarios/format/index.js';
import { isDirectConversation } from '../system/core/ids.js';
import type { EncryptionReport } from './encryption.js';
import type { MediaDownloadTally } from './media-downloads.js';
import { runLoad } from './run-load.js';

/*
 * `npm start` is the load driver on scenarios/demo.yaml against the embedded system. This runs
 * that scenario the same way (no target: the driver starts the embedded system in its worker
 * thread; the whole 6 s, since the MLS share sends only a handful of messages a run) and asserts that every kind of traffic the README promises for `npm start`
 * really happened: groups (one of 48 members), churn, read receipts, presence, media up and down,
 * pushes, the MLS share, and the checker's verdict over it all.
 */

const DEMO_SCENARIO = new URL('../scenarios/demo.yaml', import.meta.url).pathname;

const count = (history: History, keep: (event: History[number]) => boolean) => history.filter(keep).length;

describe('npm start: the load driver on scenarios/demo.yaml', () => {
  it('parses, with the live-only knobs npm start relies on', async () => {
    const scenario = await readScenario(DEMO_SCENARIO);
    expect(scenario.name).toBe('demo');
    expect(scenario.faults).toEqual([]); // the load driver refuses scenarios with faults unless told
    expect(scenario.traffic.encrypted_share).toBeGreaterThan(0);
    expect(scenario.groups.hot.map((g) => g.size)).toContain(48);
    expect(scenario.live).toMatchObject({ media_downloads: 1, push_tokens: true });
    expect(scenario.live.membership_changes).toBeGreaterThan(0);
    expect(scenario.live.encrypted_groups).toBeGreaterThan(0);
  });

  it(
    'exercises groups and membership changes, churn, receipts, presence, media, pushes and the encrypted share, checked clean',
    { timeout: 120_000 },
    async () => {
      const scenario = await readScenario(DEMO_SCENARIO);
      const { summary, history } = await runLoad(scenario, { runId: 'demo-test' });

      expect(summary.kind).toBe('load');
      expect(summary.targets).toEqual(['embedded']);
      expect(summary.invariants, JSON.stringify(summary.invariants.witnesses)).toMatchObject({ violations: 0 });
      expect(summary.invariants.checked).toEqual(
        expect.arrayContaining(['durability', 'order', 'receipts', 'presence', 'membership', 'decryption']),
      );
      expect(summary.quiesced).toBe(true);

      // Groups: every planned one created, the 48-member one among them (its creation reaches all 48).
      const groups = summary.groups as { planned: number; created: number };
      expect(groups.created).toBe(groups.planned);
      const groupSizes = new Set(history.flatMap((e) => (e.type === 'deliver' && e.op === 'created' ? [e.memberUserIds?.length] : [])));
      expect(groupSizes).toContain(48);
      expect(
        count(history, (e) => e.type === 'deliver' && e.kind === 'message' && !isDirectConversation(e.conversationId)),
      ).toBeGreaterThan(0);
      // Membership changed under traffic: members added and removed, and the members saw it.
      const membership = summary.membership_changes as { added: number; removed: number };
      expect(membership.added).toBeGreaterThan(0);
      expect(membership.removed).toBeGreaterThan(0);
      expect(count(history, (e) => e.type === 'deliver' && e.op === 'added')).toBeGreaterThan(0);
      expect(count(history, (e) => e.type === 'deliver' && e.op === 'removed')).toBeGreaterThan(0);

      // Churn: devices went offline and came back during the traffic.
      const churn = summary.churn as { disconnects: number; reconnects: number };
      expect(churn.disconnects).toBeGreaterThan(0);
      expect(churn.reconnects).toBeGreaterThan(0);
      expect(count(history, (e) => e.type === 'disconnect')).toBeGreaterThan(0);

      // Receipts: recipients read messages, and senders saw it.
      expect(count(history, (e) => e.type === 'receipt' && e.state === 'read')).toBeGreaterThan(0);
      expect(count(history, (e) => e.type === 'receipt' && e.state === 'delivered')).toBeGreaterThan(0);

      // Presence: devices watching their contacts were told of them coming and going.
      expect(count(history, (e) => e.type === 'presence' && e.online)).toBeGreaterThan(0);
      expect(count(history, (e) => e.type === 'presence' && !e.online)).toBeGreaterThan(0);

      // Media: uploaded, downloaded by the recipients, every length as declared; pushes to offline members.
      const media = summary.media as { uploaded: number } & MediaDownloadTally;
      expect(media.uploaded).toBeGreaterThan(0);
      expect(media.downloaded).toBeGreaterThan(0);
      expect(media).toMatchObject({ size_mismatches: 0, download_failures: 0 });
      expect(summary.pushes_recorded).toBeGreaterThan(0);

      // The encrypted share: MLS conversations founded, messages sent and decrypted, none failed.
      const encryption = summary.encryption as EncryptionReport;
      expect(encryption.conversations.direct).toBeGreaterThan(0);
      expect(encryption.conversations.groups).toBeGreaterThan(0);
      expect(encryption.messages_sent).toBeGreaterThan(0);
      expect(encryption.messages_decrypted).toBeGreaterThan(0);
      expect(encryption).toMatchObject({ decrypt_failures: 0, founding_failures: 0 });
    },
  );
});
