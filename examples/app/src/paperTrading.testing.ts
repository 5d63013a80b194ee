/** Test support (not exported): small trained models, and the databases the paper tests run on. */
import { createCheckpoint, trainPpo, writeCheckpoint, KALSHI_PPO } from '@kflow/agents';
import { SyncVectorEnv, createKalshiEnv, createSyntheticSession } from '@kflow/env';
import { type IngestDatabase, migrate, openPglite } from '@kflow/ingest';
import { connectPostgres } from '@kflow/ingest/pg';
import type { TradingSetupOptions } from '@kflow/paper';

/** The setup the paper tests trade with: the recommended one (2 s grid, one contract, taker kinds). */
export const TEST_SETUP: TradingSetupOptions = KALSHI_PPO.env;

/**
 * Trains a small PPO policy (a few thousand steps on a synthetic session: it trades, it need not be good)
 * and writes its checkpoint, trading setup included, to `dir`.
 */
export async function trainTestModel(dir: string, seed: number, setup: TradingSetupOptions = TEST_SETUP): Promise<void> {
  const session = createSyntheticSession({ seed: 100 + seed, markets: 2, eventsPerMarket: 3000 });
  const make = () => createKalshiEnv({ sessions: [session], ...setup, episodeSteps: 200 });
  const env = make();
  const result = trainPpo({
    envs: new SyncVectorEnv([make, make]),
    totalTimesteps: 4096,
    seed,
    featureSetVersion: env.metadata.featureSetVersion,
    nSteps: 256,
    batchSize: 128,
    nEpochs: 2,
    entCoef: 0.05,
    policy: { hiddenSizes: [16, 16] },
  });
  await writeCheckpoint(dir, createCheckpoint(result, { envId: 'kalshi', trading: env.setup }));
}

export const DATABASE_URL = process.env.DATABASE_URL;

/** PGlite always; PostgreSQL (a fresh schema, dropped afterwards) when DATABASE_URL is set. */
export const BACKENDS: readonly { readonly name: 'pglite' | 'postgres'; readonly skip: boolean; open(): Promise<{ db: IngestDatabase; dispose(): Promise<void> }> }[] = [
  {
    name: 'pglite',
    skip: false,
    async open() {
      const db = await openPglite();
      await migrate(db);
      return { db, dispose: () => db.close() };
    },
  },
  {
    name: 'postgres',
    skip: DATABASE_URL === undefined,
    async open() {
      const schema = `kflow_t_paper_${process.pid}_${process.hrtime.bigint().toString(36)}`;
      const db = await connectPostgres({ url: DATABASE_URL!, schema });
      await migrate(db);
      return {
        db,
        async dispose() {
          await db.exec(`DROP SCHEMA "${schema}" CASCADE`);
          await db.close();
        },
      };
    },
  },
];
