/**
 * The control API over fetch: GETs need no token, POSTs carry `Authorization: Bearer <token>`. Every
 * failure becomes an `ApiRequestError` with the server's `{ error: { code, message } }` (or the network
 * error), so views can show it.
 */
import type { ApiError } from '../../src/server/protocol';

export class ApiRequestError extends Error {
  override readonly name = 'ApiRequestError';
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

let bearer: string | null = null;

export function setToken(token: string | null): void {
  bearer = token;
}

export function getToken(): string | null {
  return bearer;
}

/** An API path resolved against the page (the dashboard is served by the API's own server). */
export function apiUrl(path: string): string {
  return new URL(path.replace(/^\//, ''), document.baseURI).toString();
}

/** A WebSocket URL for a stream path on the same server. */
export function streamUrl(path: string): string {
  const url = new URL(path.replace(/^\//, ''), document.baseURI);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.hash = '';
  return url.toString();
}

async function request<T>(method: 'GET' | 'POST', path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (method === 'POST') {
    headers['content-type'] = 'application/json';
    if (bearer !== null) headers.authorization = `Bearer ${bearer}`;
  }
  let response: Response;
  try {
    response = await fetch(apiUrl(path), { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }), ...(signal === undefined ? {} : { signal }) });
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') throw error;
    throw new ApiRequestError(`${method} ${path}: the server does not answer (${error instanceof Error ? error.message : String(error)})`, 0, 'NETWORK');
  }
  const text = await response.text();
  let json: unknown;
  try {
    json = text === '' ? null : JSON.parse(text);
  } catch {
    throw new ApiRequestError(`${method} ${path}: HTTP ${response.status}, not JSON: ${text.slice(0, 120)}`, response.status, 'INVALID_RESPONSE');
  }
  if (!response.ok) {
    const e = (json as Partial<ApiError> | null)?.error;
    throw new ApiRequestError(e?.message ?? `${method} ${path}: HTTP ${response.status}`, response.status, e?.code ?? `HTTP_${response.status}`, e?.field);
  }
  return json as T;
}

export function apiGet<T>(path: string, signal?: AbortSignal): Promise<T> {
  return request<T>('GET', path, undefined, signal);
}

export function apiPost<T>(path: string, body?: unknown): Promise<T> {
  if (bearer === null) return Promise.reject(new ApiRequestError('no token: open the dashboard URL that kflow printed (…/#token=…)', 401, 'UNAUTHORIZED'));
  return request<T>('POST', path, body ?? {});
}

export function errorText(error: unknown): string {
  if (error instanceof ApiRequestError) return error.code === 'NETWORK' || error.code.startsWith('HTTP_') ? error.message : `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

export type {
  MarketRow,
  MetricsView,
  ModelView,
  StatusView,
  TrainingJobView,
  MarketsResponse,
  PositionRow,
  SessionRow,
  RetrainDecisionView,
  EpisodeRow,
  EpisodeAction,
  EpisodeActionsResponse,
  Deployment,
  ModelDetailResponse,
  DeployResponse,
} from '../../src/server/protocol';
