import { afterEach, describe, expect, it, vi } from 'vitest';
import { defaultLimits } from '../core/limits.js';
import { decodeClientFrame } from './codec.js';
import { countJsonValues } from './json-value-count.js';

/*
 * A frame of a hundred thousand tiny values costs its parse before any check can look at it, so
 * its values are counted on the raw text first. JSON.parse is spied on: refusing such a frame
 * must not call it, whatever the machine's speed.
 */

afterEach(() => vi.restoreAllMocks());

describe('countJsonValues', () => {
  it('counts about one per array entry or object member, containers included', () => {
    expect(countJsonValues('{"type":"x"}', 100)).toBe(1);
    expect(countJsonValues('{"a":[1,2,3],"b":{"c":1,"d":2}}', 100)).toBe(7);
    expect(countJsonValues('[1,1,1,1]', 100)).toBe(4);
  });

  it('skips string contents, escaped quotes and backslashes included', () => {
    expect(countJsonValues('{"a":"[1,2,{3}]"}', 100)).toBe(1);
    expect(countJsonValues('{"a":"say \\"[,,,]\\" twice","b":1}', 100)).toBe(2);
    // An escaped backslash does not escape the quote after it: the string ends there.
    expect(countJsonValues('{"a":"x\\\\","b":[1,2]}', 100)).toBe(4);
  });

  it('stops counting once past the bound', () => {
    expect(countJsonValues(`[${Array(100_000).fill(1).join(',')}]`, 10)).toBe(11);
  });

  it('counts malformed text as far as it goes', () => {
    expect(countJsonValues('{"a":[1,2', 100)).toBe(3);
    expect(countJsonValues('{"a":"never ends,,,', 100)).toBe(1);
  });
});

describe('frames beyond frameValuesMax', () => {
  it('are refused with FRAME_TOO_LARGE without being parsed', () => {
    const parse = vi.spyOn(JSON, 'parse');
    const text = JSON.stringify({ type: 'presence_subscribe', userIds: Array(100_000).fill(1) });
    const result = decodeClientFrame(text, defaultLimits);
    expect('error' in result && result.error.code).toBe('FRAME_TOO_LARGE');
    expect('error' in result && result.error.message).toContain('frameValuesMax');
    expect(parse).not.toHaveBeenCalled();
  });

  it('are counted only when long enough to hold that many values', () => {
    const limits = { ...defaultLimits, frameValuesMax: 4 };
    expect('frame' in decodeClientFrame('{"type":"ack","conversationId":"dm:a:b","seq":1}', limits)).toBe(true);
    const result = decodeClientFrame(JSON.stringify({ type: 'presence_subscribe', userIds: ['a', 'b', 'c', 'd', 'e'] }), limits);
    expect('error' in result && result.error.code).toBe('FRAME_TOO_LARGE');
  });

  it('the default leaves room for the largest valid frame: a kp_claim of every device of a full group', () => {
    const { groupMembersMax, devicesPerUserMax, keyPackageClaimUsersMax } = defaultLimits;
    const userIds = Array.from({ length: keyPackageClaimUsersMax }, (_, i) => `user${i}`);
    const exceptDevices = Array.from({ length: groupMembersMax * devicesPerUserMax }, (_, i) => ({
      userId: `user${i % groupMembersMax}`,
      deviceId: `d${i}`,
    }));
    const result = decodeClientFrame(JSON.stringify({ type: 'kp_claim', rid: 'r', userIds, exceptDevices }), defaultLimits);
    expect('frame' in result).toBe(true);
  });
});
