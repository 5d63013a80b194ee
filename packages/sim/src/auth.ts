import { type KeyObject, constants, createPublicKey, verify } from 'node:crypto';

/** The path Kalshi's WebSocket handshake signs (and the server's WebSocket path). */
export const KALSHI_WS_PATH = '/trade-api/ws/v2';

/** Why a handshake was refused. */
export type AuthFailure = 'missing_headers' | 'unknown_key' | 'bad_timestamp' | 'stale_timestamp' | 'bad_signature';

/** Options of {@link verifyKalshiRequest}. */
export interface VerifyRequestOptions {
  /** PEM (SPKI or PKCS#1) or a `KeyObject`. */
  readonly publicKey: string | KeyObject;
  /** When set, `KALSHI-ACCESS-KEY` must equal it. */
  readonly keyId?: string;
  /** Request headers as Node gives them (lower-case names). */
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  readonly method: string;
  /** Request path; any query string is ignored, as in Kalshi's signing rule. */
  readonly path: string;
  /** Current time in epoch ms, for the freshness check. */
  readonly nowMs: number;
  /** Largest accepted |now − KALSHI-ACCESS-TIMESTAMP|, ms (default 60 s). */
  readonly maxSkewMs?: number;
}

const header = (headers: VerifyRequestOptions['headers'], name: string): string | undefined => {
  const v = headers[name];
  return typeof v === 'string' ? v : v?.[0];
};

/**
 * Verifies Kalshi's request signature: base64 RSA-PSS (SHA-256, MGF1 SHA-256, salt length 32) over
 * `timestamp_ms + METHOD + path` from the KALSHI-ACCESS-KEY / -SIGNATURE / -TIMESTAMP headers.
 *
 * @example
 * const check = verifyKalshiRequest({ publicKey: pem, headers: req.headers, method: 'GET', path: KALSHI_WS_PATH, nowMs: clock.now() });
 * if (!check.ok) respond401(check.reason);
 */
export function verifyKalshiRequest(options: VerifyRequestOptions): { ok: true } | { ok: false; reason: AuthFailure } {
  const key = header(options.headers, 'kalshi-access-key');
  const signature = header(options.headers, 'kalshi-access-signature');
  const timestamp = header(options.headers, 'kalshi-access-timestamp');
  if (key === undefined || signature === undefined || timestamp === undefined) return { ok: false, reason: 'missing_headers' };
  if (options.keyId !== undefined && key !== options.keyId) return { ok: false, reason: 'unknown_key' };
  if (!/^\d{1,16}$/.test(timestamp)) return { ok: false, reason: 'bad_timestamp' };
  // A timestamp in seconds is the classic mistake; it fails here like it does against Kalshi.
  if (Math.abs(options.nowMs - Number(timestamp)) > (options.maxSkewMs ?? 60_000)) return { ok: false, reason: 'stale_timestamp' };
  const publicKey = typeof options.publicKey === 'string' ? createPublicKey(options.publicKey) : options.publicKey;
  const message = Buffer.from(timestamp + options.method.toUpperCase() + options.path.split('?')[0]!);
  let ok = false;
  try {
    ok = verify('sha256', message, { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, Buffer.from(signature, 'base64'));
  } catch {
    ok = false;
  }
  return ok ? { ok: true } : { ok: false, reason: 'bad_signature' };
}
