import { constants, generateKeyPairSync, verify } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KALSHI_WS_SIGN_PATH, createKalshiSigner } from './auth';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const pkcs1 = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

function verifies(message: string, signature: string): boolean {
  return verify('sha256', Buffer.from(message), { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }, Buffer.from(signature, 'base64'));
}

describe('createKalshiSigner', () => {
  it.each([
    ['PKCS#1', pkcs1],
    ['PKCS#8', pkcs8],
  ])('signs timestamp + GET + the WS path with RSA-PSS (%s)', async (_, pem) => {
    const signer = await createKalshiSigner({ apiKeyId: 'key-id', privateKeyPem: pem });
    const h = signer.headers(1_782_873_105_311);
    expect(h['KALSHI-ACCESS-KEY']).toBe('key-id');
    expect(h['KALSHI-ACCESS-TIMESTAMP']).toBe('1782873105311');
    expect(verifies(`1782873105311GET${KALSHI_WS_SIGN_PATH}`, h['KALSHI-ACCESS-SIGNATURE']!)).toBe(true);
    expect(verifies(`1782873105312GET${KALSHI_WS_SIGN_PATH}`, h['KALSHI-ACCESS-SIGNATURE']!)).toBe(false);
    // PSS is randomised: two signatures of the same message differ, both verify.
    expect(signer.headers(1_782_873_105_311)['KALSHI-ACCESS-SIGNATURE']).not.toBe(h['KALSHI-ACCESS-SIGNATURE']);
  });

  it('signs REST paths without the query string', async () => {
    const signer = await createKalshiSigner({ apiKeyId: 'k', privateKeyPem: pkcs8 });
    const h = signer.headers(5, 'post', '/trade-api/v2/portfolio/orders?limit=5');
    expect(verifies('5POST/trade-api/v2/portfolio/orders', h['KALSHI-ACCESS-SIGNATURE']!)).toBe(true);
  });

  it('reads the key from a file and never puts key material in errors or JSON', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kflow-key-'));
    try {
      const path = join(dir, 'key.pem');
      await writeFile(path, pkcs1);
      const signer = await createKalshiSigner({ apiKeyId: 'k', privateKeyPath: path });
      expect(JSON.stringify(signer)).not.toContain('PRIVATE');
      const broken = pkcs8.replace(/[A-Za-z]{20}/, 'x');
      const error = await createKalshiSigner({ apiKeyId: 'k', privateKeyPem: broken }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'INVALID_KEY' });
      const text = `${(error as Error).message} ${JSON.stringify(error)} ${String((error as Error).cause ?? '')}`;
      expect(text).not.toContain(broken.split('\n')[1]!.slice(0, 16));
      await expect(createKalshiSigner({ apiKeyId: 'k', privateKeyPath: join(dir, 'missing.pem') })).rejects.toMatchObject({ code: 'INVALID_KEY' });
      const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      await expect(createKalshiSigner({ apiKeyId: 'k', privateKeyPem: ec })).rejects.toMatchObject({ code: 'INVALID_KEY' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
