import fc from 'fast-check';
import { DEVICE_COUNT, USERS, type ModelAction } from './model.js';

const device = fc.nat({ max: DEVICE_COUNT - 1 });
const user = fc.nat({ max: USERS.length - 1 });

/**
 * Random actions of the reference model (model.ts), weighted towards sends and flushes. With
 * `roleChanges` false, members never leave, change role or link a new device (the streaming
 * checker's comparison runs with a fixed set of linked devices).
 */
export function modelActions(options: { roleChanges: boolean }): fc.Arbitrary<ModelAction> {
  const roleChanges: Array<fc.WeightedArbitrary<ModelAction>> = options.roleChanges
    ? [
        { weight: 1, arbitrary: fc.record({ kind: fc.constant('leave' as const), user }) },
        { weight: 1, arbitrary: fc.record({ kind: fc.constant('admin' as const), user }) },
        { weight: 1, arbitrary: fc.record({ kind: fc.constant('link' as const), device }) },
      ]
    : [];
  return fc.oneof(
    { weight: 6, arbitrary: fc.record({ kind: fc.constant('send' as const), device, dm: fc.boolean(), retry: fc.boolean() }) },
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('flush' as const), device }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('add' as const), user }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('remove' as const), user }) },
    ...roleChanges,
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('toggle' as const), device }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('receipt' as const), device, observer: device, read: fc.boolean() }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('presence' as const), observer: device, subject: user }) },
  );
}
