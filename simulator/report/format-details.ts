import type { SimResult } from '../run-simulation.js';

/** The simulator's own sections of the readable summary (after the shared ones). */
export function formatSimDetails(result: Pick<SimResult, 'summary' | 'notes'>): string {
  const s = result.summary as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  const sim = s.sim;
  const lines: string[] = [];
  lines.push(
    `simulator  ${sim.simulated_s} s simulated in ${s.wall_s} s (×${sim.simulated_per_wall}) · ${sim.events} events (${sim.events_per_s}/s) · heap peak ${(sim.heap_bytes_peak / 2 ** 20).toFixed(0)} MiB (${sim.bytes_per_user} B/user) · trace ${sim.trace_hash} · checker ${sim.checker}`,
  );
  if (s.cell) {
    const others = s.cell.of_users - s.cell.users;
    lines.push(
      `cell        ${s.cell.users} of ${s.cell.of_users} users in detail (1/${s.cell.scale}${s.cell.count !== undefined ? `; cell ${s.cell.index}/${s.cell.count} of a split run, seed ${s.cell.seed}` : ''}); ${s.cell.background ? `the other ${others} load every server as background (a Poisson stream at ×${+(s.cell.scale - 1).toFixed(2)} the cell's request rate), so utilisation, latency and tier queues are the whole deployment's (a queue is estimated from the cell's share of it); throughput, fan-out, inbox, WAL and storage below are the cell's` : 'the cell runs alone on the topology; the capacity table scales it to the population'}`,
    );
  }
  lines.push(
    `throughput  sent ${s.throughput.sent_per_s}/s  acked ${s.throughput.acked_per_s}/s  delivered ${s.throughput.delivered_per_s}/s (per device)`,
  );
  lines.push(
    `fan-out     ${s.fanout.amplification} queued deliveries per accepted event (${s.fanout.queued_deliveries} for ${s.fanout.accepted} messages)`,
  );
  lines.push(
    `depths      inbox end ${s.depths.inbox_end} peak ${s.depths.inbox_peak} · gateway CPU wait peak ${s.depths.gateway_backlog_ms_peak} ms · cassandra queue peak ${s.depths.cassandra_queue_peak} · redis queue peak ${s.depths.redis_queue_peak} · WAL end ${s.depths.wal.end} peak ${s.depths.wal.peak} (${s.depths.wal.appended} logged, ${s.depths.wal.replayed} replayed, ${s.depths.wal.refused} refused)`,
  );
  lines.push(
    `presence    staleness after disconnect p50 ${s.presence_staleness_ms.p50} ms p99 ${s.presence_staleness_ms.p99} ms (${s.presence_staleness_ms.samples} observations)`,
  );
  lines.push(
    `storage     ${s.storage.messages_stored} events, ${(s.storage.message_body_bytes / 1e6).toFixed(2)} MB bodies (${s.storage.message_bytes_per_s} B/s) · ${s.storage.media_objects} media objects ${(s.storage.media_bytes / 1e6).toFixed(1)} MB`,
  );
  const gw = s.utilisation.gateways as number[];
  lines.push(
    `utilisation gateways max ${Math.max(...gw).toFixed(2)} mean ${(gw.reduce((a, b) => a + b, 0) / gw.length).toFixed(2)} · cassandra ${s.utilisation.cassandra} · redis ${s.utilisation.redis} · s3 ${s.utilisation.s3} · push ${s.utilisation.push}`,
  );
  lines.push(
    `liveness    ${sim.liveness.converged ? `caught up ${sim.liveness.converged_after_s} s after healing` : 'NOT caught up'} (bound ${sim.liveness.bound_s} s) · timeouts cassandra ${s.timeouts.cassandra}${s.timeouts.cassandra_dropped ? ` (${s.timeouts.cassandra_dropped} thrown away in its queue)` : ''} redis ${s.timeouts.redis}`,
  );
  if (s.tier_operations) {
    for (const tier of ['cassandra', 'redis'] as const) {
      const ops = (s.tier_operations[tier] ?? []) as Array<{ operation: string; requests: number; timeouts: number }>;
      const total = ops.reduce((a, o) => a + o.requests, 0);
      if (total === 0) continue;
      const top = ops
        .slice(0, 5)
        .map((o) => `${o.operation} ${Math.round((o.requests / total) * 100)} %${o.timeouts > 0 ? ` (${o.timeouts} timed out)` : ''}`);
      lines.push(`${`${tier} load`.padEnd(11)} ${top.join(' · ')} of ${total} requests`);
    }
  }
  const errors = Object.entries(s.errors as Record<string, number>);
  if (errors.length > 0) lines.push(`errors      ${errors.map(([k, v]) => `${k} ${v}`).join(' · ')}`);
  for (const note of result.notes) lines.push(`note        ${note}`);
  if (s.determinism)
    lines.push(
      `determinism ${s.determinism.same ? 'same' : 'DIFFERENT'} trace hash twice (${s.determinism.first} / ${s.determinism.second})`,
    );
  return lines.join('\n');
}
