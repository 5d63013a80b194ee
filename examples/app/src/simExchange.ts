import { generateKeyPairSync } from 'node:crypto';
import { type KalshiSigner, createKalshiSigner } from '@kflow/ingest';
import { type ExchangeServer, type SimConfig, type SpeedFactor, createExchangeServer } from '@kflow/sim';

/**
 * Starts the simulator's Kalshi-protocol exchange on loopback with a throwaway RSA key pair, and the
 * signer that passes its handshake check (the same RSA-PSS verification Kalshi does).
 */
export async function startSimExchange(config: SimConfig, speed: SpeedFactor): Promise<{ server: ExchangeServer; signer: KalshiSigner }> {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyId = 'sim';
  const server = await createExchangeServer({ config, speed, auth: { publicKey, keyId } });
  const signer = await createKalshiSigner({ apiKeyId: keyId, privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() });
  return { server, signer };
}
