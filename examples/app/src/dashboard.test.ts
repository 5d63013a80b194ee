/**
 * The dashboard end to end, in a real headless Chromium (Debian's `chromium` through playwright-core):
 * `kflow paper --ui` as its own process on a simulated exchange, the browser on the URL it prints. The
 * prices shown are the server's, the actor's trades reach the feed, and Deploy in the Models view swaps
 * the running model (the API and the top bar both say so). A screenshot of every view lands in
 * `examples/app/.screenshots/` (not committed) for a person to look at.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { migrate, openPglite } from '@kflow/ingest';
import { type Browser, type Page, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerCheckpoint } from './commands/models';
import { trainTestModel } from './paperTrading.testing';
import type { BookView, EpisodeRow, MarketRow, StatusView } from './server/protocol';

const ROOT = resolve(import.meta.dirname, '../../..');
const SHOTS = resolve(import.meta.dirname, '../.screenshots');
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Debian's chromium, installed with apt-get when missing and possible (CI installs it before the tests). */
function findChromium(): { path: string } | { reason: string } {
  if (existsSync(CHROMIUM)) return { path: CHROMIUM };
  if (process.platform === 'linux' && process.getuid?.() === 0 && existsSync('/usr/bin/apt-get')) {
    try {
      execFileSync('sh', ['-c', 'apt-get update -qq && apt-get install -y -qq chromium'], { stdio: 'ignore', timeout: 300_000 });
    } catch {
      // reported below
    }
    if (existsSync(CHROMIUM)) return { path: CHROMIUM };
  }
  return { reason: `${CHROMIUM} is missing and \`apt-get install chromium\` failed or is not possible here` };
}

const browserBinary = findChromium();

let dir: string;
let dataDir: string;
const models: { id: number; version: number }[] = [];

beforeAll(async () => {
  if (!('path' in browserBinary)) return;
  dir = await mkdtemp(join(tmpdir(), 'kflow-dashboard-'));
  dataDir = join(dir, 'db');
  await Promise.all([trainTestModel(join(dir, 'v1'), 1), trainTestModel(join(dir, 'v2'), 2)]);
  const db = await openPglite({ dataDir });
  try {
    await migrate(db);
    for (const v of ['v1', 'v2']) models.push((await registerCheckpoint(db, join(dir, v), 'dash', { deploy: v === 'v1' })).model);
  } finally {
    await db.close();
  }
  await mkdir(SHOTS, { recursive: true });
}, 120_000);
afterAll(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

/** `kflow <args>` as its own process (the way `pnpm kflow` runs it); stderr collected. */
function kflow(args: readonly string[]): { child: ChildProcess; stderr: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['--conditions=@kflow/source', '--import', 'tsx', 'examples/app/src/cli.ts', ...args], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  return { child, stderr: () => stderr, exited };
}

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000): Promise<T> {
  const start = performance.now();
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (performance.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function getJson<T>(base: string, path: string): Promise<T> {
  const response = await fetch(`${base}${path}`);
  if (!response.ok) throw new Error(`GET ${path}: HTTP ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

/** How the Markets view writes a price: cents with one decimal. */
const cents = (price: number | null) => (price === null ? '—' : (price * 100).toFixed(1));

async function view(page: Page, name: string): Promise<void> {
  await page.click(`[data-testid=view-${name}]`);
  await page.waitForSelector(`[data-testid=${name}-view]`);
}

describe('dashboard', () => {
  const title = 'prices match the server, trades reach the feed, Deploy swaps the running model (headless Chromium)';
  if (!('path' in browserBinary)) {
    it.skip(`${title}: skipped, ${browserBinary.reason}`, () => {});
    return;
  }

  it(title, async () => {
    // 30 simulated minutes at 10×: the session outlives the test.
    const run = kflow(['paper', '--ui', '--model', 'dash', '--data-dir', dataDir, '--sim-markets', '6', '--sim-minutes', '30', '--speed', '10', '--port', '0']);
    let browser: Browser | undefined;
    let exitCode: number | null = null;
    const pageErrors: string[] = [];
    try {
      const url = await until(
        'the dashboard URL on stderr',
        () => {
          if (run.child.exitCode !== null) throw new Error(`kflow paper exited with ${run.child.exitCode}:\n${run.stderr()}`);
          return /dashboard: (http:\/\/\S+\/#token=\S+)/.exec(run.stderr())?.[1];
        },
        45_000,
      );
      const base = new URL(url).origin;
      const tickers = await until('markets', async () => {
        const { markets } = await getJson<{ markets: MarketRow[] }>(base, '/rl/markets');
        return markets.length > 0 ? markets.map((m) => m.ticker) : undefined;
      });

      browser = await chromium.launch({ executablePath: browserBinary.path, args: CHROMIUM_ARGS });
      const page = await browser.newPage({ viewport: { width: 1440, height: 900 }, colorScheme: 'dark' });
      page.on('pageerror', (error) => pageErrors.push(String(error)));
      await page.goto(url);
      // The token left the address bar; the streams are connected with it.
      await page.waitForSelector('[data-testid=connection-orderbook][data-state=open]');
      await page.waitForSelector('[data-testid=connection-actions][data-state=open]');
      expect(page.url()).not.toContain('token=');

      // (1) The best bid on screen is the server's (the book moves: compare until both are read at one moment).
      const ticker = tickers[0]!;
      const bid = page.getByTestId(`best-bid-${ticker}`);
      await bid.waitFor();
      let seen: [string | null, string] = [null, ''];
      await until(
        `the best bid of ${ticker} to match GET /rl/orderbook`,
        async () => {
          const [shown, book] = await Promise.all([bid.textContent(), getJson<BookView>(base, `/rl/orderbook/${ticker}`)]);
          seen = [shown, cents(book.bestBid)];
          return shown === cents(book.bestBid) && book.bestBid !== null ? true : undefined;
        },
        20_000,
      );
      expect(seen[0]).toBe(seen[1]);
      await page.screenshot({ path: join(SHOTS, 'markets.png') });

      // The market view: depth, ladder and charts of the row clicked.
      await page.getByTestId(`markets-row-${ticker}`).click();
      await page.waitForSelector('[data-testid=market-view]');
      expect(await page.getByTestId('market-ticker').textContent()).toBe(ticker);
      await page.waitForSelector('[data-testid=ladder] tbody tr td.bid:not(:empty)');

      // (2) An order or a fill of the actor shows up in the feed.
      await view(page, 'actions');
      await page.getByTestId('feed-trades-only').check();
      const trade = page.locator('[data-testid=feed-row][data-kind=order], [data-testid=feed-row][data-kind=fill]').first();
      await trade.waitFor({ timeout: 30_000 });
      expect(tickers).toContain(await trade.getAttribute('data-market'));
      await page.getByTestId('feed-trades-only').uncheck();
      await page.screenshot({ path: join(SHOTS, 'actions.png') });

      await page.goBack(); // the market view, by now with some history
      await page.waitForSelector('[data-testid=market-view]');
      await page.screenshot({ path: join(SHOTS, 'market.png'), fullPage: true });

      await view(page, 'portfolio');
      await page.screenshot({ path: join(SHOTS, 'portfolio.png'), fullPage: true });
      await view(page, 'training');
      await page.screenshot({ path: join(SHOTS, 'training.png'), fullPage: true });
      await view(page, 'sessions');
      await page.waitForSelector('[data-testid=episodes] tbody tr td.num');
      // The recorded sessions come from a query of their own: the screenshot shows them, not "Loading…".
      await page.waitForSelector('[data-testid=sessions] tbody tr td.num');
      // The running paper episode names the model trading (from its logged decisions), not "—".
      const newest = (await getJson<{ episodes: EpisodeRow[] }>(base, '/rl/episodes')).episodes[0]!;
      expect(newest.endedMs).toBeNull();
      await page.waitForFunction(`document.querySelector('[data-testid=episode-model-${newest.id}]')?.textContent === 'v1'`, null, { timeout: 10_000 });
      await page.screenshot({ path: join(SHOTS, 'sessions.png'), fullPage: true });

      // (3) Deploy v2 from the Models view: the actor reloads it, the API and the top bar say v2.
      await view(page, 'models');
      expect(await page.getByTestId('model-version').textContent()).toBe('v1');
      const v2 = models.find((m) => m.version === 2)!;
      await page.getByTestId(`deploy-${v2.id}`).click();
      await page.waitForSelector('[data-testid=models-result]');
      await until(
        'GET /rl/status to report v2',
        async () => ((await getJson<StatusView>(base, '/rl/status')).actor.model?.version === 2 ? true : undefined),
        20_000,
      );
      await page.waitForFunction("document.querySelector('[data-testid=model-version]')?.textContent === 'v2'", null, { timeout: 10_000 });
      await page.screenshot({ path: join(SHOTS, 'models.png'), fullPage: true });

      await view(page, 'markets');
      await page.getByTestId('theme-toggle').click();
      await page.waitForFunction("document.documentElement.dataset.theme === 'light'");
      await page.screenshot({ path: join(SHOTS, 'markets-light.png') });

      expect(pageErrors).toEqual([]);
    } finally {
      await browser?.close();
      run.child.kill('SIGTERM');
      exitCode = await run.exited;
    }
    expect(exitCode).toBe(0);
  }, 90_000);
});
