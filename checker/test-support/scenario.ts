import type { History } from '../history.js';
import { HistoryBuilder, type Dev } from './builder.js';

export const G = 'grp:00aa11bb';
export const alice: Dev = ['alice', 'phone'];
export const alice2: Dev = ['alice', 'laptop'];
export const bob: Dev = ['bob', 'phone'];
export const carol: Dev = ['carol', 'phone'];
export const everyone: readonly Dev[] = [alice, alice2, bob, carol];

/** Four devices, linked and connected; the group is created with alice, bob and carol (seq 1). */
export function baseBuilder(): HistoryBuilder {
  const b = new HistoryBuilder();
  for (const d of everyone) b.device(d);
  for (const d of everyone) b.connect(d);
  b.membership(G, 1, 'created', ['alice', 'bob', 'carol'], everyone);
  return b;
}

/**
 * A clean group history:
 *   seq 1 created [alice, bob, carol]
 *   seq 2 alice/phone "a1"
 *   seq 3 bob/phone "b1"
 *   seq 4 carol removed
 *   seq 5 alice/phone "a2" (not for carol)
 * then receipts, presence and a quiesce of all four devices.
 */
export function cleanGroup(): HistoryBuilder {
  return baseBuilder()
    .message(alice, G, 'a1', 2, [alice2, bob, carol])
    .message(bob, G, 'b1', 3, [alice, alice2, carol])
    .membership(G, 4, 'removed', ['carol'], everyone)
    .message(alice, G, 'a2', 5, [alice2, bob])
    .receipt(alice, G, 'delivered', 5, bob)
    .receipt(alice, G, 'read', 4, carol)
    .presence(bob, 'alice', true)
    .quiesce(everyone);
}

export function cleanGroupHistory(): History {
  return cleanGroup().build();
}
