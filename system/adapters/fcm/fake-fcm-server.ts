/**
 * A local stand-in for the FCM HTTP v1 API, so tests of the FCM adapter never reach Google.
 *
 * An HTTPS server on 127.0.0.1 with a self-signed certificate for fcm.googleapis.com answers
 * `POST /v1/projects/{project}/messages:send` the way FCM does: 200 with the message name, or
 * the error bodies FCM sends (google.rpc.Status with an FcmError detail), per token by script.
 * It records every request. `httpAgent()` gives an https.Agent whose connections all go to this
 * server whatever host the client asks for (and which trusts only this server's certificate);
 * `credential()` gives a firebase-admin Credential with a fixed fake access token, so the SDK
 * never asks Google for one either.
 */
import { once } from 'node:events';
import { Agent, createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect } from 'node:tls';
import type { Credential, GoogleOAuthAccessToken } from 'firebase-admin/app';
import { generate } from 'selfsigned';

export const FCM_HOST = 'fcm.googleapis.com';
export const FAKE_ACCESS_TOKEN = 'fake-fcm-access-token';

/** How the fake answers one send. */
export type FakeFcmAnswer =
  | { kind: 'ok' }
  /** 404 NOT_FOUND / UNREGISTERED: the app was uninstalled or the token expired. */
  | { kind: 'unregistered' }
  /** 400 INVALID_ARGUMENT naming the token: not a valid FCM registration token. */
  | { kind: 'invalid-token' }
  /** 400 INVALID_ARGUMENT about the message itself (e.g. payload too large). */
  | { kind: 'invalid-argument' }
  /** 429 RESOURCE_EXHAUSTED / QUOTA_EXCEEDED. */
  | { kind: 'quota-exceeded'; retryAfter?: string }
  /** 503 UNAVAILABLE. */
  | { kind: 'unavailable'; retryAfter?: string }
  /** 500 INTERNAL. */
  | { kind: 'internal' }
  /** 403 PERMISSION_DENIED / SENDER_ID_MISMATCH: the token belongs to another project. */
  | { kind: 'sender-id-mismatch' }
  /** 401 UNAUTHENTICATED / THIRD_PARTY_AUTH_ERROR: APNs or web push credentials are wrong. */
  | { kind: 'third-party-auth-error' }
  /** Anything else, verbatim (e.g. the HTML 502 a Google front end answers). */
  | { kind: 'raw'; status: number; body: string; headers?: Record<string, string> };

export interface FakeFcmRequest {
  projectId: string;
  path: string;
  authorization: string | undefined;
  headers: IncomingMessage['headers'];
  /** The parsed JSON body: `{ message: {...}, validate_only? }`. */
  body: { message?: FcmV1Message; validate_only?: boolean };
  /** The HTTP status the fake answered. */
  status: number;
}

/** The fields of an FCM v1 Message the adapter sends (the fake keeps whatever arrives). */
export interface FcmV1Message {
  token?: string;
  data?: Record<string, string>;
  android?: { collapse_key?: string; priority?: string; [field: string]: unknown };
  apns?: { headers?: Record<string, string>; payload?: unknown; [field: string]: unknown };
  [field: string]: unknown;
}

interface FcmErrorSpec {
  status: number;
  grpcStatus: string;
  message: string;
  fcmErrorCode?: string;
  retryAfter?: string;
}

function errorSpec(answer: Exclude<FakeFcmAnswer, { kind: 'ok' } | { kind: 'raw' }>): FcmErrorSpec {
  switch (answer.kind) {
    case 'unregistered':
      return { status: 404, grpcStatus: 'NOT_FOUND', message: 'Requested entity was not found.', fcmErrorCode: 'UNREGISTERED' };
    case 'invalid-token':
      return {
        status: 400,
        grpcStatus: 'INVALID_ARGUMENT',
        message: 'The registration token is not a valid FCM registration token',
        fcmErrorCode: 'INVALID_ARGUMENT',
      };
    case 'invalid-argument':
      return {
        status: 400,
        grpcStatus: 'INVALID_ARGUMENT',
        message: 'Request contains an invalid argument.',
        fcmErrorCode: 'INVALID_ARGUMENT',
      };
    case 'quota-exceeded':
      return {
        status: 429,
        grpcStatus: 'RESOURCE_EXHAUSTED',
        message: 'Quota exceeded for quota metric and limit of service firebasecloudmessaging.googleapis.com.',
        fcmErrorCode: 'QUOTA_EXCEEDED',
        ...(answer.retryAfter === undefined ? {} : { retryAfter: answer.retryAfter }),
      };
    case 'unavailable':
      return {
        status: 503,
        grpcStatus: 'UNAVAILABLE',
        message: 'The service is currently unavailable.',
        fcmErrorCode: 'UNAVAILABLE',
        ...(answer.retryAfter === undefined ? {} : { retryAfter: answer.retryAfter }),
      };
    case 'internal':
      return { status: 500, grpcStatus: 'INTERNAL', message: 'Internal error encountered.', fcmErrorCode: 'INTERNAL' };
    case 'sender-id-mismatch':
      return { status: 403, grpcStatus: 'PERMISSION_DENIED', message: 'SenderId mismatch', fcmErrorCode: 'SENDER_ID_MISMATCH' };
    case 'third-party-auth-error':
      return {
        status: 401,
        grpcStatus: 'UNAUTHENTICATED',
        message: 'Auth error from APNS or Web Push Service',
        fcmErrorCode: 'THIRD_PARTY_AUTH_ERROR',
      };
  }
}

const SEND_PATH = /^\/v1\/projects\/([^/]+)\/messages:send$/;

export class FakeFcmServer {
  readonly requests: FakeFcmRequest[] = [];
  /** Called as each request arrives, before it is answered (tests note the virtual time). */
  onRequest: ((request: FakeFcmRequest) => void) | undefined;
  private readonly scripts = new Map<string, FakeFcmAnswer[]>();
  private readonly standing = new Map<string, FakeFcmAnswer>();
  private readonly agents: Agent[] = [];
  private messageCounter = 0;

  private constructor(
    private readonly server: Server,
    readonly port: number,
    /** PEM of the self-signed certificate (for fcm.googleapis.com and 127.0.0.1). */
    readonly certificatePem: string,
  ) {}

  static async start(): Promise<FakeFcmServer> {
    const pems = await generate([{ name: 'commonName', value: FCM_HOST }], {
      keySize: 2048,
      algorithm: 'sha256',
      extensions: [
        { name: 'basicConstraints', cA: false },
        { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
        { name: 'extKeyUsage', serverAuth: true },
        {
          name: 'subjectAltName',
          altNames: [
            { type: 2, value: FCM_HOST },
            { type: 7, ip: '127.0.0.1' },
          ],
        },
      ],
    });
    const server = createServer({ key: pems.private, cert: pems.cert });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const fake = new FakeFcmServer(server, (server.address() as AddressInfo).port, pems.cert);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => fake.handle(req, res));
    return fake;
  }

  /** Answers the next sends to `token` with these, in order; afterwards the standing answer applies. */
  script(token: string, ...answers: FakeFcmAnswer[]): void {
    this.scripts.set(token, [...(this.scripts.get(token) ?? []), ...answers]);
  }

  /** Answers every send to `token` with this (after any scripted answers); default { kind: 'ok' }. */
  setStanding(token: string, answer: FakeFcmAnswer): void {
    this.standing.set(token, answer);
  }

  /** The token's app was uninstalled: every send answers 404 UNREGISTERED. */
  unregister(token: string): void {
    this.setStanding(token, { kind: 'unregistered' });
  }

  requestsFor(token: string): FakeFcmRequest[] {
    return this.requests.filter((r) => r.body.message?.token === token);
  }

  /** Requests that were answered 200 (what FCM accepted for delivery). */
  delivered(): FakeFcmRequest[] {
    return this.requests.filter((r) => r.status === 200);
  }

  /**
   * An https.Agent that connects every request to this server, whatever the host, and trusts
   * only this server's certificate (verified, with SNI and identity checks for FCM_HOST).
   */
  httpAgent(): Agent {
    const port = this.port;
    const ca = this.certificatePem;
    class ToFakeFcm extends Agent {
      // The Agent uses a returned socket at once (the callback form is for asynchronous creation).
      override createConnection(): Duplex {
        return connect({ host: '127.0.0.1', port, servername: FCM_HOST, ca, ALPNProtocols: ['http/1.1'] });
      }
    }
    const agent = new ToFakeFcm({ keepAlive: true });
    this.agents.push(agent);
    return agent;
  }

  /** A firebase-admin credential that hands out FAKE_ACCESS_TOKEN without any network call. */
  credential(): Credential {
    return {
      getAccessToken: async (): Promise<GoogleOAuthAccessToken> => ({ access_token: FAKE_ACCESS_TOKEN, expires_in: 3600 }),
    };
  }

  async close(): Promise<void> {
    for (const agent of this.agents) agent.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const path = req.url ?? '/';
      const match = SEND_PATH.exec(path);
      if (req.method !== 'POST' || !match) {
        sendJson(res, 404, errorBody(404, 'NOT_FOUND', `The requested URL ${path} was not found on this server.`));
        return;
      }
      const authorization = req.headers.authorization;
      let body: FakeFcmRequest['body'];
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as FakeFcmRequest['body'];
      } catch {
        this.record(match[1] ?? '', path, req, authorization, {}, 400);
        sendJson(res, 400, errorBody(400, 'INVALID_ARGUMENT', 'Invalid JSON payload received.'));
        return;
      }
      if (authorization !== `Bearer ${FAKE_ACCESS_TOKEN}`) {
        this.record(match[1] ?? '', path, req, authorization, body, 401);
        sendJson(res, 401, errorBody(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials.'));
        return;
      }
      const token = body.message?.token;
      const answer: FakeFcmAnswer = token === undefined ? { kind: 'invalid-argument' } : this.nextAnswer(token);
      const projectId = match[1] ?? '';
      if (answer.kind === 'ok') {
        this.record(projectId, path, req, authorization, body, 200);
        this.messageCounter += 1;
        sendJson(res, 200, { name: `projects/${projectId}/messages/0:${Date.now()}${String(this.messageCounter).padStart(6, '0')}%fake` });
      } else if (answer.kind === 'raw') {
        this.record(projectId, path, req, authorization, body, answer.status);
        res.writeHead(answer.status, { 'content-type': 'text/html; charset=UTF-8', ...answer.headers }).end(answer.body);
      } else {
        const spec = errorSpec(answer);
        this.record(projectId, path, req, authorization, body, spec.status);
        const headers: Record<string, string> = spec.retryAfter === undefined ? {} : { 'retry-after': spec.retryAfter };
        sendJson(res, spec.status, errorBody(spec.status, spec.grpcStatus, spec.message, spec.fcmErrorCode), headers);
      }
    });
  }

  private nextAnswer(token: string): FakeFcmAnswer {
    const queue = this.scripts.get(token);
    const scripted = queue?.shift();
    if (queue && queue.length === 0) this.scripts.delete(token);
    return scripted ?? this.standing.get(token) ?? { kind: 'ok' };
  }

  private record(
    projectId: string,
    path: string,
    req: IncomingMessage,
    authorization: string | undefined,
    body: FakeFcmRequest['body'],
    status: number,
  ): void {
    const request: FakeFcmRequest = { projectId: decodeURIComponent(projectId), path, authorization, headers: req.headers, body, status };
    this.requests.push(request);
    this.onRequest?.(request);
  }
}

/** google.rpc.Status as FCM v1 returns it, with the FcmError detail when there is one. */
function errorBody(code: number, status: string, message: string, fcmErrorCode?: string): unknown {
  const details =
    fcmErrorCode === undefined ? [] : [{ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode: fcmErrorCode }];
  return { error: { code, message, status, ...(details.length > 0 ? { details } : {}) } };
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', ...headers }).end(JSON.stringify(body));
}
