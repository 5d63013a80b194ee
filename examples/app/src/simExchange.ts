import { generateKeyPairSync } from 'node:crypto';
import { type KalshiSigner, createKalshiSigner } from '@kflow/ingest';
import { systemClock } from '@kflow/orderbook';
import { type ExchangeServer, type SimConfig, type SpeedFactor, createExchangeServer } from '@kflow/sim';

/**
 * Starts the simulator's Kalshi-protocol exchange on loopback with a throwaway RSA key pair, and the
 * signer that passes its handshake check (the same RSA-PSS verification Kalshi does). The session's
 * exchange clock starts at the current time, as a real exchange's does, so snapshots stamped on receipt
 * and deltas stamped by the exchange share one clock (the seed still fixes every price and size).
 */
export async function startSimExchange(config: SimConfig, speed: SpeedFactor): Promise<{ server: ExchangeServer; signer: KalshiSigner }> {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyId = 'sim';
  const server = await createExchangeServer({ config: { ...config, startMs: systemClock.now() }, speed, auth: { publicKey, keyId } });
  const signer = await createKalshiSigner({ apiKeyId: keyId, privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() });
  return { server, signer };
}
