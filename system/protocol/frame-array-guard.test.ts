import { describe, expect, it } from 'vitest';
import { defaultLimits } from '../core/limits.js';
import { hostileFrames } from '../testing/hostile-frames.js';
import { decodeClientFrame, validateClientFrame } from './codec.js';
import { frameArrayBounds, type ArrayBound } from './frame-array-bounds.js';
import { arrayItemSchemas } from './frame-array-guard.js';
import { clientFrameSchemas, type ClientFrameType } from './frames.js';

/*
 * The work one frame can cause before it is refused must not grow with its arrays: an array
 * longer than its bound is refused by its length (no element is read), and within the bound the
 * first bad element ends validation. Element reads are counted through a proxy, so nothing here
 * depends on how fast the machine is.
 */

const limits = defaultLimits;
const bounds = frameArrayBounds(limits);
const frameTypes = Object.keys(clientFrameSchemas) as ClientFrameType[];

/** An array whose element reads are counted. */
function countedArray(items: unknown[]): { array: unknown[]; reads: () => number } {
  let reads = 0;
  const array = new Proxy(items, {
    get(target, property, receiver) {
      if (typeof property === 'string' && /^\d+$/.test(property)) reads++;
      return Reflect.get(target, property, receiver) as unknown;
    },
  });
  return { array, reads: () => reads };
}

function boundsOf(type: ClientFrameType): Array<[string, ArrayBound]> {
  return Object.entries(bounds[type] as Record<string, ArrayBound>);
}

/** Far more entries than any bound: what 256 KiB of `[1,1,…]` holds. */
const OVERSIZE_ENTRIES = 130_000;

describe('array bounds of client frames', () => {
  it('bounds every array field of every frame type, and nothing else', () => {
    for (const type of frameTypes) {
      expect(Object.keys(bounds[type]).sort(), type).toEqual(Object.keys(arrayItemSchemas[type]).sort());
    }
    // The frames the issue was about are among them.
    expect(Object.keys(bounds.presence_subscribe)).toEqual(['userIds']);
    expect(Object.keys(bounds.group_create)).toEqual(['members']);
  });

  it('derives each bound from the limits the request is held to anyway', () => {
    const custom = frameArrayBounds({ ...limits, groupMembersMax: 10, devicesPerUserMax: 2, presenceSubscriptionsMax: 7 });
    expect(custom.group_create.members).toMatchObject({ itemsMax: 10, code: 'GROUP_FULL' });
    expect(custom.group_add.userIds).toMatchObject({ itemsMax: 10, code: 'GROUP_FULL' });
    expect(custom.presence_subscribe.userIds).toMatchObject({ itemsMax: 7, code: 'INVALID_FIELD' });
    expect(custom.kp_claim.exceptDevices).toMatchObject({ itemsMax: 20, code: 'INVALID_FIELD' });
  });

  describe.each(frameTypes.flatMap((type) => boundsOf(type).map(([field, bound]) => ({ type, field, bound }))))(
    '$type.$field',
    ({ type, field, bound }) => {
      it(`an oversize array is refused with ${bound.code} without reading an element`, () => {
        const { array, reads } = countedArray(Array.from({ length: OVERSIZE_ENTRIES }, () => 1));
        const result = validateClientFrame({ type, rid: 'r1', [field]: array }, limits);
        expect('error' in result && result.error.code).toBe(bound.code);
        if (!('error' in result)) return;
        expect(result.error.message).toContain(`${field} has ${OVERSIZE_ENTRIES} entries`);
        expect(result.error.message).toContain(bound.limitName);
        expect(result).toMatchObject({ rid: 'r1', type });
        expect(reads()).toBe(0);
      });

      it('within the bound, the first bad element ends validation', () => {
        const { array, reads } = countedArray(Array.from({ length: bound.itemsMax }, () => 'not valid'));
        const result = validateClientFrame({ type, rid: 'r1', [field]: array }, limits);
        expect('error' in result && result.error.code).toBe('INVALID_FIELD');
        if (!('error' in result)) return;
        expect(result.error.message).toContain(`${type}: ${field}.0`);
        expect(reads()).toBe(1);
      });
    },
  );

  it.each(frameTypes)('%s: an array in a field the frame does not have is never read', (type) => {
    const { array, reads } = countedArray(Array.from({ length: OVERSIZE_ENTRIES }, () => 'x'));
    validateClientFrame({ type, rid: 'r1', unknownField: array }, limits);
    expect(reads()).toBe(0);
  });

  it('a valid frame with arrays at their bounds still decodes', () => {
    const userIds = Array.from({ length: limits.presenceSubscriptionsMax }, (_, i) => `user${i}`);
    const result = decodeClientFrame(JSON.stringify({ type: 'presence_subscribe', userIds }), limits);
    expect('frame' in result && result.frame).toMatchObject({ type: 'presence_subscribe', userIds });
  });

  it('the frames of the report are refused before parsing; smaller ones for their length', () => {
    const presence = decodeClientFrame(JSON.stringify({ type: 'presence_subscribe', userIds: Array(40_000).fill('a b') }), limits);
    expect('error' in presence && presence.error.code).toBe('FRAME_TOO_LARGE');
    const group = decodeClientFrame(JSON.stringify({ type: 'group_create', rid: 'g', name: 'x', members: Array(40_000).fill(1) }), limits);
    expect('error' in group && group.error.code).toBe('FRAME_TOO_LARGE');
    const fewerUsers = decodeClientFrame(JSON.stringify({ type: 'presence_subscribe', userIds: Array(5_000).fill('a b') }), limits);
    expect('error' in fewerUsers && fewerUsers.error).toMatchObject({
      code: 'INVALID_FIELD',
      message: expect.stringContaining('5000 entries'),
    });
    const fewerMembers = decodeClientFrame(
      JSON.stringify({ type: 'group_create', rid: 'g', name: 'x', members: Array(5_000).fill(1) }),
      limits,
    );
    expect('error' in fewerMembers && fewerMembers.error.code).toBe('GROUP_FULL');
  });

  it('every hostile frame fits frameBytesMax and decodes as the generator says', () => {
    const frames = hostileFrames(limits);
    expect(new Set(frames.map((f) => f.type))).toEqual(new Set(frameTypes));
    for (const hostile of frames) {
      expect(Buffer.byteLength(hostile.text), hostile.rid).toBeLessThanOrEqual(limits.frameBytesMax);
      const result = decodeClientFrame(hostile.text, limits);
      if (hostile.decodeError) expect('error' in result && result.error.code, hostile.rid).toBe(hostile.decodeError);
      else expect('frame' in result, hostile.rid).toBe(true);
    }
  });
});
