import { constants, createPrivateKey, sign, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ingestError } from './errors';

/** The path every WebSocket handshake signs, whatever the host (docs/kalshi-protocol.md §2). */
export const KALSHI_WS_SIGN_PATH = '/trade-api/ws/v2';

/** Signs Kalshi requests. Holds the key privately: it never appears in logs, errors or JSON. */
export interface KalshiSigner {
  /** The three `KALSHI-ACCESS-*` headers for `method path` at `timestampMs` (fresh on every call). */
  headers(timestampMs: number, method?: string, path?: string): Record<string, string>;
}

/** An API key id and its RSA private key, as PEM text or as a file path. */
export type KalshiKeySource =
  | { readonly apiKeyId: string; readonly privateKeyPem: string }
  | { readonly apiKeyId: string; readonly privateKeyPath: string };

/**
 * Creates a signer from an API key id and an RSA private key (PEM, PKCS#1 or PKCS#8, as a string or a
 * file). Signatures are RSA-PSS with SHA-256, MGF1-SHA-256 and salt length = digest length over
 * `timestamp_ms + METHOD + path` (query string dropped).
 *
 * @example
 * const signer = await createKalshiSigner({ apiKeyId: process.env.KALSHI_API_KEY_ID!, privateKeyPath: process.env.KALSHI_PRIVATE_KEY_PATH! });
 * signer.headers(clock.now()); // { 'KALSHI-ACCESS-KEY': ..., 'KALSHI-ACCESS-SIGNATURE': ..., 'KALSHI-ACCESS-TIMESTAMP': ... }
 */
export async function createKalshiSigner(source: KalshiKeySource): Promise<KalshiSigner> {
  let pem: string;
  if ('privateKeyPath' in source) {
    try {
      pem = await readFile(source.privateKeyPath, 'utf8');
    } catch {
      throw ingestError('INVALID_KEY', `cannot read the Kalshi private key file ${source.privateKeyPath}`);
    }
  } else pem = source.privateKeyPem;
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    // No cause: a parser error could quote part of the key.
    throw ingestError('INVALID_KEY', 'the Kalshi private key is not a valid PEM RSA key (PKCS#1 or PKCS#8)');
  }
  if (key.asymmetricKeyType !== 'rsa') throw ingestError('INVALID_KEY', `Kalshi keys are RSA; got ${key.asymmetricKeyType ?? 'unknown'}`);
  const { apiKeyId } = source;
  return {
    headers(timestampMs, method = 'GET', path = KALSHI_WS_SIGN_PATH) {
      const ts = String(Math.trunc(timestampMs));
      const message = ts + method.toUpperCase() + path.split('?')[0]!;
      const signature = sign('sha256', Buffer.from(message), {
        key,
        padding: constants.RSA_PKCS1_PSS_PADDING,
        saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
      }).toString('base64');
      return { 'KALSHI-ACCESS-KEY': apiKeyId, 'KALSHI-ACCESS-SIGNATURE': signature, 'KALSHI-ACCESS-TIMESTAMP': ts };
    },
  };
}
