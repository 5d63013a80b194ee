import { type KalshiSigner, createKalshiSigner } from '@kflow/ingest';
import { type ExchangeServer, type SimConfig, type SpeedFactor, startLocalExchange } from '@kflow/sim';

/** The simulator's exchange on loopback (see `startLocalExchange`) and the signer that passes its handshake. */
export async function startSimExchange(config: SimConfig, speed: SpeedFactor): Promise<{ server: ExchangeServer; signer: KalshiSigner }> {
  const { server, credentials } = await startLocalExchange({ config, speed });
  return { server, signer: await createKalshiSigner(credentials) };
}
