import { describe, expect, it } from 'vitest';
import { GatewayNode } from './gateway-node.js';
import { createTestWorld } from '../testing/in-process-client.js';

describe('GatewayNode connection ids', () => {
  it('differ between two processes of one node id, so a stale route never names a new connection', () => {
    // Two processes of gateway "gw-1" (a crash and a restart): each draws its own incarnation.
    const before = createTestWorld({ nodeId: 'gw-1', seed: 1 });
    const after = createTestWorld({ nodeId: 'gw-1', seed: 2 });
    const staleRoute = before.node.nextConnectionId();
    const fresh = Array.from({ length: 5 }, () => after.node.nextConnectionId());
    expect(staleRoute).toMatch(/^gw-1-[0-9a-f]{8}-c1$/);
    expect(fresh).not.toContain(staleRoute);
    expect(new Set(fresh).size).toBe(5);
  });

  it('are the same for the same seed (the simulator replays runs from a seed)', () => {
    const a = createTestWorld({ nodeId: 'gw-1', seed: 7 });
    const b = createTestWorld({ nodeId: 'gw-1', seed: 7 });
    expect(a.node.nextConnectionId()).toBe(b.node.nextConnectionId());
    expect(new GatewayNode(a.core, a.router).nextConnectionId()).not.toBe(a.node.nextConnectionId());
  });
});
