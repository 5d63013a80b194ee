import type { CAC } from 'cac';
import { type AuditReport, auditDecisions } from '@kflow/env';
import { type EpisodeRecord, type IngestDatabase, createSessionLoader, getEpisode, listEpisodes, loadEpisodeActions } from '@kflow/ingest';
import { type DecisionRecord, decodeDecision } from '@kflow/paper';
import type { InferencePolicy } from '@kflow/agents';
import { printJson } from '../output';
import { loadModelById } from '../paperTrading';
import { openStorage, type StorageOptions } from './collect';

/** The `--json` result of `kflow audit`. */
export interface AuditResult {
  readonly sessionId: string;
  readonly episodeId: number;
  readonly decisions: number;
  readonly mismatches: number;
  readonly firstMismatch: AuditReport['firstMismatch'];
  readonly markets: number;
  readonly unfinished: number;
  readonly staleOutcomes: number;
  /** Dollars. */
  readonly pnlLive: number;
  readonly pnlReplay: number;
  readonly models: readonly string[];
}

/** The episode `--episode ID|latest` names (the newest paper episode, of `--session` when given). */
async function findEpisode(db: IngestDatabase, session: string, episode: string): Promise<EpisodeRecord> {
  if (episode !== 'latest') {
    const id = Number(episode);
    if (!Number.isSafeInteger(id)) throw new Error(`--episode must be an id or latest, got "${episode}"`);
    return getEpisode(db, id);
  }
  const episodes = await listEpisodes(db, { mode: 'paper', ...(session === 'latest' ? {} : { sessionId: session }) });
  const found = episodes.find((e) => e.sessionId !== null);
  if (found === undefined) throw new Error(`no paper episode${session === 'latest' ? '' : ` of session ${session}`} (run \`kflow paper\` first)`);
  return found;
}

/**
 * Re-runs a paper session through the env with the same models and compares every logged decision
 * (see `auditDecisions`).
 *
 * @example
 * const result = await runAudit(db, { session: 'latest', episode: 'latest' });
 */
export async function runAudit(db: IngestDatabase, o: { session: string; episode: string }): Promise<AuditResult> {
  const episode = await findEpisode(db, o.session, o.episode);
  if (episode.sessionId === null) throw new Error(`episode ${episode.id} has no recorded session to replay`);
  if (o.session !== 'latest' && episode.sessionId !== o.session) throw new Error(`episode ${episode.id} traded session ${episode.sessionId}, not ${o.session}`);
  const session = await createSessionLoader({ db }).load(episode.sessionId);
  const rows = await loadEpisodeActions(db, episode.id);
  const decisions: DecisionRecord[] = rows.map((r) => decodeDecision(r.details, r.executionResult));
  const policies = new Map<string, InferencePolicy>();
  let setup;
  for (const d of decisions) {
    if (policies.has(d.model.id)) continue;
    const loaded = await loadModelById(db, d.model.id);
    policies.set(d.model.id, loaded.policy);
    setup ??= loaded.setup;
  }
  if (setup === undefined) throw new Error(`episode ${episode.id} logged no decisions: nothing to audit`);
  const report = auditDecisions({ session, setup, decisions, policyFor: (m) => policies.get(m.id)! });
  return {
    sessionId: episode.sessionId,
    episodeId: episode.id,
    decisions: report.decisions,
    mismatches: report.mismatches,
    firstMismatch: report.firstMismatch,
    markets: report.markets,
    unfinished: report.unfinished,
    staleOutcomes: report.staleOutcomes,
    pnlLive: report.pnlLiveMicros / 1e6,
    pnlReplay: report.pnlReplayMicros / 1e6,
    models: [...new Set(decisions.map((d) => `${d.model.name} v${d.model.version}`))],
  };
}

export function describeMismatch(m: NonNullable<AuditReport['firstMismatch']>): string {
  const what = m.field === 'observation' && m.feature !== undefined ? `observation feature ${m.feature}` : m.field;
  return `${m.market} decision ${m.step} (exchange time ${m.tsMs}): ${what} live ${JSON.stringify(m.live)} ≠ replay ${JSON.stringify(m.replay)}`;
}

export function registerAudit(cli: CAC): void {
  cli
    .command('audit', 'Replay a paper session through the env with the same models and compare every decision (exit 1 on any mismatch)')
    .option('--session <id>', 'Session id, or latest', { default: 'latest' })
    .option('--episode <id>', 'Paper episode id, or latest (of the session)', { default: 'latest' })
    .option('--db <url>', 'PostgreSQL connection string (default: PGlite in --data-dir)')
    .option('--data-dir <dir>', 'PGlite data directory (default kflow-data)')
    .option('--json', 'Print one JSON object')
    .action(async (o: StorageOptions & { session: string; episode: string; json?: boolean }) => {
      const { db } = await openStorage(o);
      try {
        const r = await runAudit(db, { session: String(o.session), episode: String(o.episode) });
        if (o.json) printJson(r);
        else {
          console.log(
            `audit of episode ${r.episodeId} (session ${r.sessionId}, models ${r.models.join(', ')}): ${r.decisions} decisions on ${r.markets} markets, ` +
              `${r.mismatches} mismatches; PnL live $${r.pnlLive.toFixed(4)}, replay $${r.pnlReplay.toFixed(4)}` +
              (r.unfinished > 0 ? ` (${r.unfinished} decisions unfinished at shutdown: compared without outcome)` : '') +
              (r.staleOutcomes > 0 ? ` (${r.staleOutcomes} outcomes measured on a stale book: not compared)` : ''),
          );
          if (r.firstMismatch !== null) console.log(`first mismatch: ${describeMismatch(r.firstMismatch)}`);
        }
        if (r.mismatches > 0) process.exitCode = 1;
      } finally {
        await db.close();
      }
    });
}
