import type { DeviceAddress } from '../core/ids.js';

/** The authenticated user and device a request comes from (from the connection's token). */
export type Caller = DeviceAddress;
