import { ChatError } from '../core/errors.js';
import type { ReceiptState } from '../core/events.js';
import type { ClientFrame, ServerFrame, ServerFrameOf } from '../protocol/frames.js';
import type { Route } from '../ports/connection-registry.js';
import type { Caller } from '../services/caller.js';
import type { ChatCore } from '../services/chat-core.js';
import type { PushedSenders } from '../services/receipt-service.js';
import type { PushedEvents } from './session.js';
import type { SendRequest } from '../services/chat-service.js';
import type { SignedUrl } from '../services/media-service.js';

export interface RequestContext {
  /** When the frame came off the socket: its wait for a turn counts toward admission control. */
  receivedAtMs: number;
  core: ChatCore;
  caller: Caller;
  route: Route;
  watchPresence(userIds: string[]): Promise<void>;
  unwatchPresence(userIds: string[]): void;
  /** Puts this connection's route and presence back and sends what waits in the inbox. */
  reannounce(): Promise<void>;
  /** The highest seq of the conversation this connection has sent as an event (0: none). */
  sentThroughSeq(conversationId: string): number;
  /** Whose messages this connection pushed: the senders an ack or read of them concerns. */
  pushes: Pick<PushedEvents, 'senders' | 'acknowledged'>;
}

/**
 * Maps one authenticated client frame to the core service that handles it and builds the reply
 * frame (undefined when the frame type has none). Errors propagate to the session, which turns
 * them into `error` frames.
 */
export async function dispatchRequest(ctx: RequestContext, frame: ClientFrame): Promise<ServerFrame | undefined> {
  const { core, caller } = ctx;
  switch (frame.type) {
    case 'send': {
      const request: SendRequest = { conversationId: frame.conversationId, clientMessageId: frame.clientMessageId, bodyBase64: frame.body };
      if (frame.media) request.media = frame.media;
      if (frame.mls) request.mls = frame.mls;
      const result = await core.chat.send(caller, request, ctx.receivedAtMs);
      if (result.queued) {
        const { queued: _queued, ...fields } = result;
        return withRid<'queued'>({ type: 'queued', ...fields }, frame.rid);
      }
      const { queued: _sent, ...fields } = result;
      return withRid<'sent'>({ type: 'sent', ...fields }, frame.rid);
    }
    case 'ack': {
      const { conversationId, seq } = frame;
      const pushed = pushedSenders(ctx, conversationId, seq, ['delivered']);
      await core.receipts.delivered(caller, conversationId, seq, pushed !== undefined, pushed);
      ctx.pushes.acknowledged(conversationId, 'delivered', seq);
      return undefined;
    }
    case 'read': {
      const { conversationId, seq } = frame;
      const pushed = pushedSenders(ctx, conversationId, seq, ['delivered', 'read']);
      await core.receipts.read(caller, conversationId, seq, pushed !== undefined, pushed);
      ctx.pushes.acknowledged(conversationId, 'read', seq);
      return undefined;
    }
    case 'sync': {
      const page = await core.sync.after(caller, frame.conversationId, frame.afterSeq, frame.limit, frame.fromLink === true);
      return { type: 'sync_result', rid: frame.rid, conversationId: frame.conversationId, ...page };
    }
    case 'history': {
      const page = await core.sync.before(caller, frame.conversationId, frame.beforeSeq, frame.limit);
      return { type: 'history_result', rid: frame.rid, conversationId: frame.conversationId, ...page };
    }
    case 'conversations':
      return { type: 'conversations_result', rid: frame.rid, conversations: await core.sync.conversations(caller) };
    case 'receipts': {
      const devices = await core.receipts.list(caller, frame.conversationId);
      return { type: 'receipts_result', rid: frame.rid, conversationId: frame.conversationId, devices };
    }
    case 'group_create':
      return groupResult(frame.rid, await core.groups.create(caller, frame.name, frame.members));
    case 'group_add':
      return groupResult(frame.rid, await core.groups.add(caller, frame.conversationId, frame.userIds));
    case 'group_remove':
      return groupResult(frame.rid, await core.groups.remove(caller, frame.conversationId, frame.userId));
    case 'group_leave':
      return groupResult(frame.rid, await core.groups.leave(caller, frame.conversationId));
    case 'group_admin':
      return groupResult(frame.rid, await core.groups.setAdmin(caller, frame.conversationId, frame.userId, frame.admin));
    case 'presence_subscribe':
      await ctx.watchPresence(frame.userIds);
      return frame.rid ? { type: 'ok', rid: frame.rid } : undefined;
    case 'presence_unsubscribe':
      ctx.unwatchPresence(frame.userIds);
      return frame.rid ? { type: 'ok', rid: frame.rid } : undefined;
    case 'heartbeat': {
      // Route, presence and an inbox sweep, as after a Redis restart (Session.reannounce).
      await ctx.reannounce();
      return { type: 'heartbeat_ack', serverTimeMs: core.deps.clock.nowMs() };
    }
    case 'media_upload':
      return mediaUrl(
        frame.rid,
        await core.media.requestUpload(caller, frame.conversationId, frame.sizeBytes, frame.contentType, frame.sha256),
      );
    case 'media_download':
      return mediaUrl(frame.rid, await core.media.requestDownload(caller, frame.conversationId, frame.objectKey));
    case 'push_token':
      await core.deps.directory.setPushToken(caller, frame.token ?? undefined);
      return frame.rid ? { type: 'ok', rid: frame.rid } : undefined;
    case 'device_unlink': {
      const target = await core.auth.unlink(caller, frame.deviceId);
      await core.keys.forgetDevice(target);
      const live = (await core.deps.registry.lookup(target.userId)).filter((e) => e.deviceId === target.deviceId);
      const goaway = { type: 'goaway' as const, reason: 'device_unlinked', reconnectAfterMs: 0 };
      await Promise.all(live.map((e) => core.deps.router.deliver(e.route, goaway)));
      return { type: 'ok', rid: frame.rid };
    }
    case 'kp_upload':
      return { type: 'kp_status', rid: frame.rid, ...(await core.keys.upload(caller, frame.keyPackages, frame.lastResort)) };
    case 'kp_count':
      return { type: 'kp_status', rid: frame.rid, ...(await core.keys.count(caller)) };
    case 'kp_claim': {
      const claimed = await core.keys.claim(caller, frame.userIds, frame.exceptDevices);
      const keyPackages = claimed.keyPackages.map((p) => ({
        userId: p.userId,
        deviceId: p.deviceId,
        keyPackage: p.keyPackageBase64,
        lastResort: p.lastResort,
      }));
      return { type: 'kp_claimed', rid: frame.rid, keyPackages, missing: claimed.missing };
    }
    case 'auth':
      throw new ChatError('ALREADY_AUTHENTICATED');
  }
}

/**
 * For an ack or read of a seq this connection pushed (or an earlier one): the senders each raised
 * watermark concerns, as far as the connection knows them. Undefined for any other seq: the
 * receipt service then proves membership and existence and reads the log.
 */
function pushedSenders(ctx: RequestContext, conversationId: string, seq: number, states: ReceiptState[]): PushedSenders | undefined {
  if (seq > ctx.sentThroughSeq(conversationId)) return undefined;
  const pushed: PushedSenders = {};
  for (const state of states) {
    const known = ctx.pushes.senders(conversationId, state, seq);
    if (known) pushed[state] = known;
  }
  return pushed;
}

function withRid<T extends 'sent' | 'queued'>(frame: ServerFrameOf<T>, rid: string | undefined): ServerFrameOf<T> {
  if (rid !== undefined) frame.rid = rid;
  return frame;
}

function groupResult(rid: string, change: { conversationId: string; seq: number }): ServerFrameOf<'group_result'> {
  return { type: 'group_result', rid, ...change };
}

function mediaUrl(rid: string, signed: SignedUrl): ServerFrameOf<'media_url'> {
  return { type: 'media_url', rid, ...signed };
}
