import { isKflowError } from '@kflow/orderbook';
import { expect, it } from 'vitest';
import { ActionWriteQueue } from './actionWriteQueue';
import { describeEachBackend } from './databases.testing';
import { type TradingMode, finishEpisode, getEpisode, listEpisodes, loadEpisodeActions, startEpisode } from './episodes';

async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  try {
    await promise;
  } catch (error) {
    expect(isKflowError(error, code), String(error)).toBe(true);
    return;
  }
  throw new Error(`expected a KflowError ${code}`);
}

describeEachBackend('episodes', 'episodes', (t) => {
  it('starts an episode over several markets of a session and reads it back', async () => {
    const session = `s-start-${t.name}`;
    const id = await startEpisode(t.db, { market: '*', markets: ['KXA-1', 'KXB-2'], mode: 'paper', startedMs: 1_750_000_000_000, sessionId: session });
    expect(Number.isSafeInteger(id)).toBe(true);
    expect(await getEpisode(t.db, id)).toEqual({
      id,
      modelId: null,
      market: '*',
      markets: ['KXA-1', 'KXB-2'],
      mode: 'paper',
      sessionId: session,
      startedMs: 1_750_000_000_000,
      endedMs: null,
      totalReward: 0,
      steps: 0,
      finalPositionCenti: null,
      summary: null,
      latestModel: null,
    });
    // Without markets or session, both read back as null.
    const single = await startEpisode(t.db, { market: 'KXA-1', mode: 'training', startedMs: 5 });
    expect(await getEpisode(t.db, single)).toMatchObject({ market: 'KXA-1', markets: null, sessionId: null, mode: 'training', startedMs: 5 });
    expect(single).toBeGreaterThan(id);
  });

  it('refuses any mode but training and paper with LIVE_MODE_FORBIDDEN, storing nothing', async () => {
    const session = `s-live-${t.name}`;
    for (const mode of ['live', 'LIVE', 'Paper', '']) {
      await expectCode(startEpisode(t.db, { market: 'M', mode: mode as TradingMode, startedMs: 1, sessionId: session }), 'LIVE_MODE_FORBIDDEN');
    }
    expect(await listEpisodes(t.db, { sessionId: session })).toEqual([]);
  });

  it('finishes an episode with its outcome and summary', async () => {
    const id = await startEpisode(t.db, { market: 'KXA-1', mode: 'paper', startedMs: 1_000, sessionId: `s-finish-${t.name}` });
    const summary = { decisions: 12, pnlMicros: -3_500.5, models: ['m-1', 'm-2'], reloads: 0, nested: { halted: false, note: 'ü ≠ "quoted"' } };
    await finishEpisode(t.db, id, { endedMs: 61_000, totalReward: -0.35, steps: 12, finalPositionCenti: -250, summary });
    expect(await getEpisode(t.db, id)).toMatchObject({ endedMs: 61_000, totalReward: -0.35, steps: 12, finalPositionCenti: -250, summary });
    // Finishing without a summary stores none.
    const other = await startEpisode(t.db, { market: 'KXA-1', mode: 'training', startedMs: 1 });
    await finishEpisode(t.db, other, { endedMs: 2, totalReward: 1.5, steps: 3, finalPositionCenti: 0 });
    expect(await getEpisode(t.db, other)).toMatchObject({ endedMs: 2, totalReward: 1.5, steps: 3, finalPositionCenti: 0, summary: null });
  });

  it('lists episodes newest first, filtered by mode and by session', async () => {
    const a = `s-list-a-${t.name}`;
    const b = `s-list-b-${t.name}`;
    const ids = {
      aPaper1: await startEpisode(t.db, { market: 'M1', mode: 'paper', startedMs: 10, sessionId: a }),
      aTraining: await startEpisode(t.db, { market: 'M2', mode: 'training', startedMs: 20, sessionId: a }),
      bPaper: await startEpisode(t.db, { market: 'M3', mode: 'paper', startedMs: 30, sessionId: b }),
      aPaper2: await startEpisode(t.db, { market: 'M4', mode: 'paper', startedMs: 40, sessionId: a }),
    };
    expect((await listEpisodes(t.db, { sessionId: a })).map((e) => e.id)).toEqual([ids.aPaper2, ids.aTraining, ids.aPaper1]);
    expect((await listEpisodes(t.db, { sessionId: a, mode: 'paper' })).map((e) => e.id)).toEqual([ids.aPaper2, ids.aPaper1]);
    expect((await listEpisodes(t.db, { sessionId: a, mode: 'training' })).map((e) => e.id)).toEqual([ids.aTraining]);
    expect((await listEpisodes(t.db, { sessionId: b })).map((e) => e.id)).toEqual([ids.bPaper]);
    expect(await listEpisodes(t.db, { sessionId: `s-none-${t.name}` })).toEqual([]);
    // Unfiltered and mode-only lists hold every matching episode of the database, newest first.
    const all = await listEpisodes(t.db);
    const allIds = all.map((e) => e.id);
    expect(allIds).toEqual([...allIds].sort((x, y) => y - x));
    for (const id of Object.values(ids)) expect(allIds).toContain(id);
    const paper = await listEpisodes(t.db, { mode: 'paper' });
    expect(paper.every((e) => e.mode === 'paper')).toBe(true);
    expect(paper.map((e) => e.id)).toEqual(expect.arrayContaining([ids.aPaper1, ids.aPaper2, ids.bPaper]));
    expect(paper.map((e) => e.id)).not.toContain(ids.aTraining);
    expect(paper[0]!.id).toBeGreaterThanOrEqual(ids.aPaper2);
  });

  it('reports a running episode from its action log: decisions so far and the latest decision\'s model', async () => {
    const id = await startEpisode(t.db, { market: '*', markets: ['KXA-1'], mode: 'paper', startedMs: 1, sessionId: `s-running-${t.name}` });
    const q = new ActionWriteQueue({ db: t.db });
    const log = (step: number, version: number) =>
      q.enqueue({ episodeId: id, step, tsMs: step, market: 'KXA-1', action: 0, executed: false, details: { model: { id: `m-${version}`, name: 'demo', version } } });
    [0, 1, 2].forEach((step) => log(step, 1));
    await q.flush();
    expect(await getEpisode(t.db, id)).toMatchObject({ endedMs: null, steps: 3, latestModel: { id: 'm-1', name: 'demo', version: 1 } });
    // A hot reload: the next decisions name v2, and the listing follows.
    [3, 4].forEach((step) => log(step, 2));
    await q.close();
    const [listed] = await listEpisodes(t.db, { sessionId: `s-running-${t.name}` });
    expect(listed).toMatchObject({ id, steps: 5, latestModel: { id: 'm-2', name: 'demo', version: 2 } });
    // Finished, the count the episode was finished with stands.
    await finishEpisode(t.db, id, { endedMs: 9, totalReward: 0, steps: 6, finalPositionCenti: 0 });
    expect(await getEpisode(t.db, id)).toMatchObject({ steps: 6, latestModel: { version: 2 } });
  });

  it('getEpisode throws EPISODE_NOT_FOUND for an unknown id', async () => {
    await expectCode(getEpisode(t.db, 987_654_321), 'EPISODE_NOT_FOUND');
  });

  it('loads the actions written through ActionWriteQueue in step order, JSON parsed, with paging', async () => {
    const episodeId = await startEpisode(t.db, { market: '*', markets: ['KXA-1', 'KXB-2'], mode: 'paper', startedMs: 1, sessionId: `s-actions-${t.name}` });
    const otherEpisode = await startEpisode(t.db, { market: 'KXA-1', mode: 'paper', startedMs: 1 });
    const q = new ActionWriteQueue({ db: t.db, batchSize: 4 });
    // Enqueued out of order: loading sorts by step.
    const steps = [5, 0, 3, 1, 4, 2, 6, 9, 7, 8];
    for (const step of steps) {
      q.enqueue({
        episodeId,
        step,
        tsMs: 1_750_000_000_000 + step,
        market: step % 2 === 0 ? 'KXA-1' : 'KXB-2',
        action: step % 10,
        details: { format: 1, observation: [0.5, -0.25, 1e-45, step], mask: '1011', order: step === 3 ? { side: 'bid', priceUnits: 4500 } : null },
        observationHash: `hash-${step}`,
        ...(step === 4 ? {} : { reward: step === 2 ? null : step / 4 }),
        executed: step % 3 !== 0,
        ...(step < 8 ? { executionResult: { fills: [['bid', 4500, 100, true]], positionCenti: step * 100 } } : {}),
      });
    }
    q.enqueue({ episodeId: otherEpisode, step: 0, tsMs: 1, market: 'KXA-1', action: 0, executed: false });
    await q.flush();
    await q.close();

    const rows = await loadEpisodeActions(t.db, episodeId);
    expect(rows.map((r) => r.step)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(rows[3]).toEqual({
      episodeId,
      step: 3,
      tsMs: 1_750_000_000_003,
      market: 'KXB-2',
      action: 3,
      details: { format: 1, observation: [0.5, -0.25, 1e-45, 3], mask: '1011', order: { side: 'bid', priceUnits: 4500 } },
      observationHash: 'hash-3',
      reward: 0.75,
      executed: false,
      executionResult: { fills: [['bid', 4500, 100, true]], positionCenti: 300 },
    });
    expect(rows[2]!.reward).toBeNull(); // stored as null
    expect(rows[4]!.reward).toBeNull(); // not given
    expect(rows[8]!.executionResult).toBeNull(); // no outcome
    expect(rows[9]).toMatchObject({ step: 9, reward: 2.25, executed: false, executionResult: null });
    expect(rows[8]).toMatchObject({ step: 8, reward: 2, executed: true });
    expect(rows.every((r) => r.episodeId === episodeId)).toBe(true);

    // Paging: `limit` rows after `afterStep`.
    expect((await loadEpisodeActions(t.db, episodeId, { limit: 3 })).map((r) => r.step)).toEqual([0, 1, 2]);
    expect((await loadEpisodeActions(t.db, episodeId, { afterStep: 2, limit: 3 })).map((r) => r.step)).toEqual([3, 4, 5]);
    expect((await loadEpisodeActions(t.db, episodeId, { afterStep: 7 })).map((r) => r.step)).toEqual([8, 9]);
    expect(await loadEpisodeActions(t.db, episodeId, { afterStep: 9 })).toEqual([]);
    const paged: number[] = [];
    for (let after = -1; ; ) {
      const page = await loadEpisodeActions(t.db, episodeId, { afterStep: after, limit: 4 });
      if (page.length === 0) break;
      paged.push(...page.map((r) => r.step));
      after = page.at(-1)!.step;
    }
    expect(paged).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);

    // Other episodes' rows stay apart; an episode without actions has none.
    expect(await loadEpisodeActions(t.db, otherEpisode)).toEqual([
      { episodeId: otherEpisode, step: 0, tsMs: 1, market: 'KXA-1', action: 0, details: {}, observationHash: null, reward: null, executed: false, executionResult: null },
    ]);
    expect(await loadEpisodeActions(t.db, 987_654_321)).toEqual([]);
  });
});
