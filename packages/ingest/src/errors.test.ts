import { describe, expect, it } from 'vitest';
import { importOptional } from './errors';

describe('importOptional', () => {
  it('names the missing optional peer and how to install it', async () => {
    const missing = 'kflow-no-such-package-' + 'x';
    const error = await importOptional(missing, () => import(/* @vite-ignore */ missing)).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'DEPENDENCY_NOT_INSTALLED', details: { package: missing } });
    expect((error as Error).message).toContain(`npm install ${missing}`);
  });

  it('returns the module when it is installed', async () => {
    const ws = await importOptional('ws', () => import('ws'));
    expect(typeof ws.WebSocket).toBe('function');
  });
});
