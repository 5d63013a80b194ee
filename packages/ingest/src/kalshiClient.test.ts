import type { AddressInfo } from 'node:net';
import { createRng } from '@kflow/orderbook';
import { describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { KalshiClient, type KalshiClientEvent } from './kalshiClient';

const snapshot = (seq: number, ticker: string) =>
  JSON.stringify({ type: 'orderbook_snapshot', sid: 3, seq, msg: { market_ticker: ticker, market_id: 'm', yes_dollars_fp: [['0.4000', '10.00']], no_dollars_fp: [['0.5000', '4.50']] } });
const delta = (seq: number, ticker: string) =>
  JSON.stringify({ type: 'orderbook_delta', sid: 3, seq, msg: { market_ticker: ticker, market_id: 'm', price_dollars: '0.4000', delta_fp: '1.00', side: 'yes', ts_ms: 1_780_000_000_000 + seq } });

describe('KalshiClient.handleMessage (no socket)', () => {
  it('counts malformed frames, flags gaps on the affected sid and isolates failing sinks', () => {
    const events: KalshiClientEvent[] = [];
    const client = new KalshiClient({ url: 'ws://127.0.0.1:9/trade-api/ws/v2', markets: ['A', 'B'], rng: createRng(1), onEvent: (e) => events.push(e) });
    const seen: number[] = [];
    client.addSink(() => {
      throw new Error('sink down');
    });
    client.addSink((_, __, ctx) => seen.push(ctx.frameNo));
    client.handleMessage('{"id":1,"type":"subscribed","msg":{"channel":"orderbook_delta","sid":3}}', 1);
    client.handleMessage(snapshot(1, 'A'), 2);
    client.handleMessage(snapshot(2, 'B'), 3);
    client.handleMessage('not json', 4);
    client.handleMessage('{"type":"orderbook_delta","sid":3,"msg":{}}', 5);
    client.handleMessage(delta(3, 'A'), 6);
    client.handleMessage(delta(5, 'B'), 7); // seq 4 lost
    expect(client.stats).toMatchObject({ frames: 7, malformed: 2, gaps: 1, sinkErrors: 5 });
    expect(seen).toEqual([1, 2, 3, 6, 7]);
    expect(events.find((e) => e.type === 'gap')).toEqual({ type: 'gap', sid: 3, markets: ['A', 'B'] });
    // Both books of the sid are stale until fresh snapshots arrive.
    expect(client.state.book('A')?.stale).toBe(true);
    client.handleMessage(snapshot(6, 'A'), 8);
    expect(client.state.book('A')?.stale).toBe(false);
    expect(client.state.book('B')?.stale).toBe(true);
    expect(client.state.book('A')?.levels('yes')).toEqual([[4000, 1000]]);
  });

  it('resubscribes the affected channel on error 10 or 25 and only then', () => {
    const events: KalshiClientEvent[] = [];
    const client = new KalshiClient({ url: 'ws://127.0.0.1:9/trade-api/ws/v2', markets: ['A'], rng: createRng(1), onEvent: (e) => events.push(e) });
    client.handleMessage('{"id":1,"type":"subscribed","msg":{"channel":"orderbook_delta","sid":3}}', 1);
    client.handleMessage('{"id":2,"type":"subscribed","msg":{"channel":"market_lifecycle_v2","sid":4}}', 2);
    client.handleMessage('{"type":"error","sid":3,"msg":{"code":6,"msg":"Already subscribed"}}', 3);
    expect(client.stats.resubscribes).toBe(0);
    client.handleMessage('{"type":"error","sid":4,"msg":{"code":10,"msg":"Subscription closed"}}', 4);
    client.handleMessage('{"type":"error","sid":3,"msg":{"code":25,"msg":"Subscription buffer overflow"}}', 5);
    expect(client.stats.resubscribes).toBe(2);
    expect(events.filter((e) => e.type === 'resubscribe')).toEqual([
      { type: 'resubscribe', channel: 'market_lifecycle_v2', code: 10 },
      { type: 'resubscribe', channel: 'orderbook_delta', code: 25 },
    ]);
  });

  it('rejects URLs that are not WebSocket URLs and resolves the Kalshi environments', () => {
    expect(() => new KalshiClient({ url: 'http://example.test', markets: [], rng: createRng(1) })).toThrow(/not a WebSocket URL/);
    expect(new KalshiClient({ url: 'demo', markets: [], rng: createRng(1) }).url).toBe('wss://external-api-ws.demo.kalshi.co/trade-api/ws/v2');
    expect(new KalshiClient({ url: 'production', markets: [], rng: createRng(1) }).url).toBe('wss://external-api-ws.kalshi.com/trade-api/ws/v2');
  });

  it('never exposes credentials carried by a custom URL (events, session records and errors use the masked one)', () => {
    const client = new KalshiClient({ url: 'wss://alice:s3cret@feed.example/trade-api/ws/v2?token=t0ken&v=2', markets: [], rng: createRng(1) });
    expect(client.url).toBe('wss://***@feed.example/trade-api/ws/v2?token=***&v=***');
    expect(() => new KalshiClient({ url: 'https://alice:s3cret@feed.example/?token=t0ken', markets: [], rng: createRng(1) })).toThrow(
      /^(?!.*(s3cret|t0ken)).*not a WebSocket URL/,
    );
  });
});

describe('KalshiClient on a socket', () => {
  it('handles a flood far past one turn of frames whole and in order, and the rest of a closing connection before its close', async () => {
    const DELTAS = 20_000;
    const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    let connections = 0;
    server.on('connection', (socket) => {
      // The first connection floods and closes; later ones stay quiet.
      if (connections++ > 0) return;
      socket.on('message', () => {
        const frames = ['{"id":1,"type":"subscribed","msg":{"channel":"orderbook_delta","sid":3}}', snapshot(1, 'A')];
        for (let seq = 2; seq < DELTAS + 2; seq++) frames.push(delta(seq, 'A'));
        // One send: a single socket write the client reads in large chunks.
        for (const f of frames) socket.send(f);
        socket.close();
      });
    });
    await new Promise((resolve) => server.once('listening', resolve));
    const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/trade-api/ws/v2`;
    const log: string[] = [];
    const client = new KalshiClient({
      url,
      markets: ['A'],
      channels: ['orderbook_delta'],
      rng: createRng(1),
      initialBackoffMs: 60_000,
      onEvent: (e) => {
        if (e.type === 'disconnected') log.push(`disconnected ${e.conn}`);
      },
    });
    const seqs: number[] = [];
    client.addSink((frame, _, ctx) => {
      if (frame.type === 'orderbook_delta') seqs.push(frame.seq!);
      if (ctx.conn === 1 && frame.type === 'orderbook_delta' && frame.seq === DELTAS + 1) log.push('last delta');
    });
    try {
      await client.start();
      await new Promise<void>((resolve) => {
        const check = setInterval(() => {
          if (log.includes('disconnected 1')) resolve(clearInterval(check));
        }, 5);
      });
      expect(log.slice(0, 2)).toEqual(['last delta', 'disconnected 1']);
      expect(seqs).toEqual(Array.from({ length: DELTAS }, (_, i) => i + 2));
      expect(client.stats).toMatchObject({ gaps: 0, malformed: 0 });
      expect(client.state.book('A')?.levels('yes')).toEqual([[4000, 1000 + 100 * DELTAS]]);
    } finally {
      await client.stop();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
