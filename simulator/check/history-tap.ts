import type { HistoryEvent } from '../../checker/history.js';
import { TraceHash } from '../engine/trace-hash.js';

/** Something that consumes history events as they happen (the streaming checker). */
export interface HistoryConsumer {
  observe(event: HistoryEvent): void;
}

/**
 * Where every virtual client writes what it observed. Each event goes into the run's trace hash
 * (determinism), into the full history when the run is checked whole, and to the streaming
 * checker when it is checked as it goes.
 */
export class HistoryTap {
  readonly trace = new TraceHash();
  readonly events: HistoryEvent[] | undefined;
  count = 0;

  constructor(
    keepAll: boolean,
    private readonly consumer?: HistoryConsumer,
  ) {
    this.events = keepAll ? [] : undefined;
  }

  record(event: HistoryEvent): void {
    this.count++;
    hashEvent(this.trace, event);
    this.events?.push(event);
    this.consumer?.observe(event);
  }
}

function hashEvent(h: TraceHash, e: HistoryEvent): void {
  h.addString(e.type);
  h.addNumber(e.atMs);
  switch (e.type) {
    case 'quiesce':
      h.addNumber(e.devices.length);
      return;
    case 'device':
    case 'welcomed':
    case 'connect':
    case 'disconnect':
      h.addString(e.userId);
      h.addString(e.deviceId);
      return;
    case 'send':
      h.addString(e.deviceId);
      h.addString(e.clientMessageId);
      h.addNumber(e.attempt);
      return;
    case 'ack':
      h.addString(e.clientMessageId);
      h.addNumber(e.seq);
      return;
    case 'deliver':
      h.addString(e.userId);
      h.addString(e.deviceId);
      h.addString(e.conversationId);
      h.addNumber(e.seq);
      return;
    case 'receipt':
      h.addString(e.userId);
      h.addString(e.byUserId);
      h.addNumber(e.upToSeq);
      return;
    case 'presence':
      h.addString(e.userId);
      h.addString(e.subjectUserId);
      h.addNumber(e.online ? 1 : 0);
      return;
  }
}
