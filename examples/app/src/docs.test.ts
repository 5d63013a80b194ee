import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../../..');

/** The markdown files whose relative links must resolve: docs/ (guides included), the root README, package READMEs. */
function markdownFiles(): string[] {
  const files: string[] = [join(ROOT, 'README.md')];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) {
        if (name !== 'api-reference') walk(path); // generated, not committed
      } else if (name.endsWith('.md')) files.push(path);
    }
  };
  walk(join(ROOT, 'docs'));
  for (const pkg of readdirSync(join(ROOT, 'packages'))) {
    const readme = join(ROOT, 'packages', pkg, 'README.md');
    if (existsSync(readme)) files.push(readme);
  }
  return files;
}

/** Inline link and image targets outside code (fenced blocks and code spans are not links). */
function linkTargets(markdown: string): string[] {
  const prose = markdown.replace(/^(`{3,}|~{3,})[^\n]*\n[\s\S]*?^\1[ \t]*$/gm, '').replace(/`+[^`\n]*`+/g, '');
  return [...prose.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]!);
}

describe('documentation', () => {
  it('every relative markdown link points at a file that exists', () => {
    const broken: string[] = [];
    let checked = 0;
    for (const file of markdownFiles()) {
      for (const target of linkTargets(readFileSync(file, 'utf8'))) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('#')) continue; // URLs, mailto:, same-page anchors
        const path = decodeURIComponent(target.replace(/[?#].*$/, ''));
        checked++;
        if (!existsSync(resolve(dirname(file), path))) broken.push(`${relative(ROOT, file)}: ${target}`);
      }
    }
    expect(broken).toEqual([]);
    expect(checked).toBeGreaterThan(20); // the scan found the links (not vacuous)
  });

  it('the docs index links every page under docs/', () => {
    const index = readFileSync(join(ROOT, 'docs', 'README.md'), 'utf8');
    const linked = new Set(linkTargets(index).map((t) => t.replace(/[?#].*$/, '')));
    const pages = markdownFiles()
      .filter((f) => f.startsWith(join(ROOT, 'docs') + '/') && !f.endsWith(join('docs', 'README.md')))
      .map((f) => relative(join(ROOT, 'docs'), f));
    expect(pages.filter((p) => !linked.has(p))).toEqual([]);
  });

  it('code comments cite only documents the repository ships, and sections that exist', () => {
    const sources: string[] = [];
    const walk = (dir: string): void => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (name === 'node_modules' || name === 'dist') continue;
        if (statSync(path).isDirectory()) walk(path);
        else if (/\.tsx?$/.test(name)) sources.push(path);
      }
    };
    for (const pkg of readdirSync(join(ROOT, 'packages'))) if (existsSync(join(ROOT, 'packages', pkg, 'src'))) walk(join(ROOT, 'packages', pkg, 'src'));
    walk(join(ROOT, 'examples'));
    const bad: string[] = [];
    let cited = 0;
    for (const file of sources) {
      const text = readFileSync(file, 'utf8');
      const where = relative(ROOT, file);
      if (/kalshi-api\.md|architecture \u00a7/.test(text)) bad.push(`${where}: cites a document the repository does not ship`);
      for (const m of text.matchAll(/\bdocs\/([\w./-]+?\.md)(?:,?\s*§(\d+(?:\.\d+)*))?/g)) {
        cited++;
        const doc = join(ROOT, 'docs', m[1]!);
        if (!existsSync(doc)) {
          bad.push(`${where}: docs/${m[1]} does not exist`);
          continue;
        }
        const section = m[2];
        if (section !== undefined) {
          const heading = new RegExp(`^#{1,6}\\s+${section.replace(/\./g, '\\.')}(?:\\.|\\s)`, 'm');
          if (!heading.test(readFileSync(doc, 'utf8'))) bad.push(`${where}: docs/${m[1]} has no section ${section}`);
        }
      }
    }
    expect(bad).toEqual([]);
    expect(cited).toBeGreaterThan(5);
  });

  it('the API reference covers every public entry point of every package', () => {
    const config = JSON.parse(readFileSync(join(ROOT, 'typedoc.json'), 'utf8')) as { entryPoints: string[] };
    const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    expect(scripts.docs).toMatch(/^typedoc\b/);
    const entryPoints = new Set(config.entryPoints.map((p) => resolve(ROOT, p)));
    const missing: string[] = [];
    for (const pkg of readdirSync(join(ROOT, 'packages'))) {
      const manifest = join(ROOT, 'packages', pkg, 'package.json');
      if (!existsSync(manifest)) continue;
      const exports = (JSON.parse(readFileSync(manifest, 'utf8')) as { exports?: Record<string, Record<string, string>> }).exports ?? {};
      for (const [subpath, conditions] of Object.entries(exports)) {
        const source = conditions['@kflow/source'];
        if (source !== undefined && !entryPoints.has(resolve(ROOT, 'packages', pkg, source))) missing.push(`@kflow/${pkg}${subpath.slice(1)}`);
      }
    }
    expect(missing).toEqual([]);
  });

  // The root `docs` script is `typedoc` with typedoc.json (run it as `pnpm run docs`: bare `pnpm docs` is
  // pnpm's pass-through to `npm docs`): warnings are errors and every export must be documented, so a clean
  // exit means no warning. Run through node directly (CI may not have pnpm on the PATH), into a temporary
  // directory so the test leaves docs/api-reference alone.
  it('the docs script builds the API reference without a warning', { timeout: 120_000 }, async () => {
    const out = await mkdtemp(join(tmpdir(), 'kflow-docs-'));
    try {
      const bin = join(ROOT, 'node_modules', 'typedoc', 'bin', 'typedoc');
      const result = await promisify(execFile)(process.execPath, [bin, '--out', out], { cwd: ROOT, maxBuffer: 16 << 20 }).then(
        ({ stdout, stderr }) => ({ code: 0, output: stdout + stderr }),
        (error: { code?: number; stdout?: string; stderr?: string }) => ({ code: error.code ?? 1, output: `${error.stdout ?? ''}${error.stderr ?? ''}` }),
      );
      // Colour codes wrap the tag but leave "[warning]" / "[error]" intact.
      expect(result.output.split('\n').filter((l) => /\[(warning|error)\]/.test(l))).toEqual([]);
      expect(result.code).toBe(0);
      expect(existsSync(join(out, 'index.html'))).toBe(true);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});
