import type { ErrorCode } from '../core/errors.js';
import type { Limits } from '../core/limits.js';
import type { ClientFrameOf, ClientFrameType } from './frames.js';

/** The fields of a client frame type that hold arrays. */
type ArrayFieldOf<T extends ClientFrameType> = {
  [K in keyof ClientFrameOf<T>]-?: NonNullable<ClientFrameOf<T>[K]> extends readonly unknown[] ? K : never;
}[keyof ClientFrameOf<T>];

/** How many entries one array field of a client frame may hold, and how to say no. */
export interface ArrayBound {
  itemsMax: number;
  /** The limit (or product of limits) the bound comes from, named in the rejection. */
  limitName: string;
  /** The code a longer array is rejected with: the one the request would fail with anyway. */
  code: ErrorCode;
}

/**
 * Every array field of every client frame type, with its bound. The type makes the table
 * complete: a new array field does not compile until it is bounded here.
 */
export type FrameArrayBounds = { readonly [T in ClientFrameType]: Readonly<Record<ArrayFieldOf<T>, ArrayBound>> };

/**
 * The bounds the decoder checks before it looks at a single element: a frame's array costs work
 * per element to validate, so an oversized one is refused for its length alone (a 40,000-entry
 * list of invalid ids used to hold the event loop for hundreds of milliseconds while being
 * rejected). Each bound is the limit the request is held to further on, so no request that
 * could succeed is refused here.
 */
export function frameArrayBounds(limits: Limits): FrameArrayBounds {
  const groupMembers: ArrayBound = { itemsMax: limits.groupMembersMax, limitName: 'groupMembersMax', code: 'GROUP_FULL' };
  const presenceUsers: ArrayBound = {
    itemsMax: limits.presenceSubscriptionsMax,
    limitName: 'presenceSubscriptionsMax',
    code: 'INVALID_FIELD',
  };
  return {
    auth: {},
    send: {},
    ack: {},
    read: {},
    sync: {},
    history: {},
    conversations: {},
    receipts: {},
    group_create: { members: groupMembers },
    group_add: { userIds: groupMembers },
    group_remove: {},
    group_leave: {},
    group_admin: {},
    presence_subscribe: { userIds: presenceUsers },
    // Nobody watches more than presenceSubscriptionsMax users, so nobody needs to unwatch more.
    presence_unsubscribe: { userIds: presenceUsers },
    heartbeat: {},
    media_upload: {},
    media_download: {},
    push_token: {},
    device_unlink: {},
    kp_upload: {
      keyPackages: { itemsMax: limits.keyPackagesPerUploadMax, limitName: 'keyPackagesPerUploadMax', code: 'INVALID_FIELD' },
    },
    kp_count: {},
    kp_claim: {
      userIds: { itemsMax: limits.keyPackageClaimUsersMax, limitName: 'keyPackageClaimUsersMax', code: 'INVALID_FIELD' },
      // The devices already in a group: at most every device of a full group.
      exceptDevices: {
        itemsMax: limits.groupMembersMax * limits.devicesPerUserMax,
        limitName: 'groupMembersMax × devicesPerUserMax',
        code: 'INVALID_FIELD',
      },
    },
  };
}
