import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnCli } from '../cli.testing';
import { replayFile, summarizeReplay } from './replay';

const dir = mkdtempSync(join(tmpdir(), 'kflow-replay-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Market Y has both sides; market N has only NO bids (its YES keys must be absent).
const capture = [
  '{"type":"subscribed","id":1,"msg":{"channel":"orderbook_delta","sid":1}}',
  '{"type":"ok","id":2,"sid":1,"seq":1,"msg":{"market_tickers":["KXSYNTH-Y","KXSYNTH-N"]}}',
  '{"type":"orderbook_snapshot","sid":1,"seq":2,"msg":{"market_ticker":"KXSYNTH-Y","market_id":"y","yes_dollars_fp":[["0.2000","5.00"],["0.2500","1.50"]],"no_dollars_fp":[["0.7000","3.00"]]}}',
  '',
  '{"recv_ms":1767225600000,"frame":{"type":"orderbook_snapshot","sid":1,"seq":3,"msg":{"market_ticker":"KXSYNTH-N","market_id":"n","no_dollars_fp":[["0.0100","100.00"]]}}}',
  '{"type":"orderbook_delta","sid":1,"seq":4,"msg":{"market_ticker":"KXSYNTH-Y","market_id":"y","price_dollars":"0.7100","delta_fp":"0.25","side":"no","ts_ms":1767225601000}}',
  'garbage',
].join('\n');
const path = join(dir, 'capture.jsonl');
writeFileSync(path, `${capture}\n`);

const expected = {
  frames: 5,
  snapshots: 2,
  deltas: 1,
  ignored: 0,
  errors: 1,
  gaps: 0,
  crossed: 0,
  negative: 0,
  markets: {
    'KXSYNTH-Y': {
      bestYesBid: '0.2500',
      bestYesBidSize: '1.50',
      bestNoBid: '0.7100',
      bestNoBidSize: '0.25',
      bestYesAsk: '0.2900',
      yesLevels: 2,
      noLevels: 2,
      yesDepth: '6.50',
      noDepth: '3.25',
    },
    'KXSYNTH-N': { bestNoBid: '0.0100', bestNoBidSize: '100.00', bestYesAsk: '0.9900', noLevels: 1, noDepth: '100.00' },
  },
};

describe('kflow replay', () => {
  it('summarizes a streamed capture in the documented JSON shape', async () => {
    const summary = summarizeReplay(await replayFile(path));
    expect(summary).toEqual(expected);
    // Key order is part of the contract (readable diffs of CLI output).
    expect(Object.keys(summary.markets['KXSYNTH-Y']!)).toEqual(Object.keys(expected.markets['KXSYNTH-Y']));
  });

  it('fails clearly on a missing file', async () => {
    await expect(replayFile(join(dir, 'missing.jsonl'))).rejects.toThrow(/ENOENT/);
  });

  it('prints exactly one JSON object with --json', async () => {
    const cli = spawnCli(['replay', path, '--json']);
    expect(await cli.exited).toBe(0);
    expect(cli.lines).toHaveLength(1);
    expect(JSON.parse(cli.lines[0]!)).toEqual(expected);
  });
});
