import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRng, replay, sessionDataFromCaptureSync } from '@kflow/orderbook';
import { createCollector, createKalshiSigner, createSessionLoader, migrate, openPglite } from '@kflow/ingest';
import { createExchangeServer, generateCapture, resolveSimConfig } from '@kflow/sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, spawnCli } from '../cli.testing';
import { registerCollect } from './collect';
import { registerSessions } from './sessions';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kflow-collect-sim-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the collector against the simulator exchange (@kflow/sim)', () => {
  it('survives every fault switch and ends with the simulator\'s final books; the database equals the capture', async () => {
    const config = resolveSimConfig('volatile', { seed: 21, markets: 3, durationMs: 4 * 60_000 });
    // The books the simulator ends with, from its offline capture of the same config.
    const lines: string[] = [];
    generateCapture(config, { onFrame: (l) => lines.push(l) });
    const truth = replay(lines).state;

    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    // Paced (4 exchange minutes in ~8 s), so the session cannot end before every fault switch has been
    // thrown and answered, however fast this machine reads.
    const server = await createExchangeServer({ config, speed: 30, auth: { publicKey }, highWaterMarkBytes: 64 * 1024 });
    const db = await openPglite();
    await migrate(db);
    const recordPath = join(dir, 'sim.jsonl');
    const collector = createCollector({
      url: server.url,
      signer: await createKalshiSigner({ apiKeyId: 'sim', privateKeyPem: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString() }),
      markets: server.markets.map((m) => m.ticker),
      db,
      recordPath,
      sessionId: 'sim-faults',
      rng: createRng(4),
      initialBackoffMs: 10,
      maxBackoffMs: 50,
    });
    const until = async (what: string, cond: () => boolean) => {
      const start = performance.now();
      while (!cond()) {
        if (performance.now() - start > 20_000) throw new Error(`timed out waiting for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    };
    let malformedSent = 0;
    try {
      await collector.start();
      const deltas = (n: number) => until(`${n} deltas`, () => collector.status().counts.deltas >= n);
      await deltas(200);
      server.faults.sequenceGap();
      await until('gap', () => collector.client.stats.gaps >= 1);
      await deltas(collector.status().counts.deltas + 200);
      server.faults.bufferOverflow();
      await until('resubscribe', () => collector.client.stats.resubscribes >= 1);
      await deltas(collector.status().counts.deltas + 200);
      malformedSent = server.faults.malformedFrame('json') + server.faults.malformedFrame('fields');
      await deltas(collector.status().counts.deltas + 200);
      // Last: frames published while the client is away are lost (as on Kalshi, settlements included when
      // the simulator finishes meanwhile); the resubscription's snapshots repair the books.
      server.faults.disconnect();
      await until('reconnect', () => collector.client.stats.reconnects >= 1 && collector.client.stats.connected);
      await server.finished;
      await until('final books', () => server.markets.every((m) => JSON.stringify(collector.state.book(m.ticker)?.levels('yes')) === JSON.stringify(truth.book(m.ticker)?.levels('yes'))));
      await new Promise((resolve) => setTimeout(resolve, 200));
    } finally {
      await collector.stop();
      await server.close();
    }
    const { counts, queue } = collector.status();
    expect(counts.gaps).toBeGreaterThanOrEqual(1);
    expect(malformedSent).toBeGreaterThanOrEqual(2);
    expect(counts.malformed).toBe(malformedSent);
    expect(counts.reconnects).toBeGreaterThanOrEqual(1);
    expect(collector.client.stats.resubscribes).toBeGreaterThanOrEqual(1);
    expect(queue).toMatchObject({ dropped: 0, pending: 0 });
    for (const m of server.markets) {
      expect(collector.state.book(m.ticker)?.levels('yes')).toEqual(truth.book(m.ticker)?.levels('yes'));
      expect(collector.state.book(m.ticker)?.levels('no')).toEqual(truth.book(m.ticker)?.levels('no'));
    }
    const fromDb = await createSessionLoader({ db }).load('sim-faults');
    const fromCapture = sessionDataFromCaptureSync((await readFile(recordPath, 'utf8')).split('\n'), { id: 'sim-faults' });
    expect(fromDb).toEqual(fromCapture);
    await db.close();
  });
});

/** Runs one CLI command in-process and returns what it printed on stdout. */
const run = (args: string[]): Promise<string> => runCli([registerCollect, registerSessions], args);

describe('kflow collect / kflow sessions', () => {
  it('collect --source sim --json stores a session that sessions --json lists', async () => {
    const dataDir = join(dir, 'data');
    const record = join(dir, 'cli.jsonl');
    const summary = JSON.parse(await run(['collect', '--source', 'sim', '--sim-minutes', '1', '--data-dir', dataDir, '--record', record, '--json'])) as Record<string, unknown>;
    expect(summary).toMatchObject({ source: 'sim', environment: 'sim', rowsDropped: 0, gaps: 0, malformed: 0 });
    expect(summary.rowsWritten).toBe(summary.rowsEnqueued);
    expect(summary.deltas as number).toBeGreaterThan(100);
    expect(summary.recordedLines).toBe((await readFile(record, 'utf8')).trimEnd().split('\n').length);
    // Sampled every 10 ms while collecting: a 10 ms timer never fires sooner, and the figures are ordered.
    const delay = summary.eventLoopDelayMs as { p50: number; p99: number; max: number };
    expect(delay.p50).toBeGreaterThanOrEqual(9.9);
    expect(delay.p99).toBeGreaterThanOrEqual(delay.p50);
    expect(delay.max).toBeGreaterThanOrEqual(delay.p99);
    const listed = JSON.parse(await run(['sessions', '--data-dir', dataDir, '--json'])) as { sessions: { id: string; status: string; stored: { deltas: number } }[] };
    expect(listed.sessions).toHaveLength(1);
    expect(listed.sessions[0]).toMatchObject({ id: summary.sessionId, status: 'completed', stored: { deltas: summary.deltas } });
  });

  it('fails with the reason on the terminal and in --json, and a non-zero exit: refused key, unreachable database', async () => {
    const config = resolveSimConfig('calm', { seed: 2, markets: 1, durationMs: 60_000 });
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const server = await createExchangeServer({ config, speed: 'max', auth: { publicKey } });
    const wrongKey = join(dir, 'wrong-key.pem');
    await writeFile(wrongKey, generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString());
    try {
      const env = { ...process.env, KALSHI_API_KEY_ID: 'someone', KALSHI_PRIVATE_KEY_PATH: wrongKey };
      const refused = spawnCli(['collect', '--source', server.url, '--markets', server.markets[0]!.ticker, '--data-dir', join(dir, 'refused'), '--json'], env);
      expect(await refused.exited).toBe(1);
      expect(refused.stderr()).toMatch(/^kflow: .*refused the handshake with HTTP 401: check the API key id and its private key/m);
      expect(JSON.parse(refused.lines.at(-1)!)).toMatchObject({ ok: false, error: { code: 'AUTH_REFUSED', message: expect.stringMatching(/HTTP 401/) } });
    } finally {
      await server.close();
    }
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const started = performance.now();
    const down = spawnCli(['collect', '--source', 'sim', '--db', `postgres://kflow@127.0.0.1:${port}/kflow`, '--json']);
    expect(await down.exited).toBe(1);
    expect(performance.now() - started).toBeLessThan(20_000);
    expect(JSON.parse(down.lines.at(-1)!)).toMatchObject({ ok: false, error: { code: 'DATABASE_UNAVAILABLE', message: expect.stringMatching(/connection refused/) } });
  });
});
