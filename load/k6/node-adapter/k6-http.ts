import { blockingFetch, type BlockingResponse } from './blocking-fetch.js';

/** `k6/http` on Node: the blocking request functions a script's setup() uses, on fetch. */

export interface AdapterParams {
  headers?: Record<string, string>;
}

export interface AdapterResponse {
  status: number;
  body: string;
  headers: Record<string, string>;
  error: string;
  json(): unknown;
}

function responseOf(answer: BlockingResponse): AdapterResponse {
  return {
    status: answer.status,
    body: answer.body,
    headers: answer.headers,
    error: answer.error ?? '',
    json: () => JSON.parse(answer.body),
  };
}

function request(method: string, url: string, body?: string | null, params?: AdapterParams | null): AdapterResponse {
  return responseOf(
    blockingFetch({ method, url, ...(body != null ? { body } : {}), ...(params?.headers ? { headers: params.headers } : {}) }),
  );
}

export default {
  request,
  get: (url: string, params?: AdapterParams | null) => request('GET', url, null, params),
  post: (url: string, body?: string | null, params?: AdapterParams | null) => request('POST', url, body, params),
  put: (url: string, body?: string | null, params?: AdapterParams | null) => request('PUT', url, body, params),
  del: (url: string, body?: string | null, params?: AdapterParams | null) => request('DELETE', url, body, params),
};
