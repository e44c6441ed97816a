/**
 * Headless Chromium for page tests. Prefers playwright-core (with Debian's
 * /usr/bin/chromium); without it, drives the same Chromium over the DevTools
 * protocol directly (a few CDP calls over `ws`). Returns undefined, with the
 * reason, when no browser can be started, so tests can skip clearly.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];

export interface Page {
  /** Evaluate an expression (awaiting a promise) in the page; returns its JSON value. */
  evaluate<T>(expression: string): Promise<T>;
}

export interface Browser {
  readonly driver: 'playwright-core' | 'cdp';
  open(url: string): Promise<Page>;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<{ browser?: Browser; skipped?: string }> {
  if (!existsSync(CHROMIUM)) return { skipped: `${CHROMIUM} not found (install Debian's chromium: apt-get install chromium)` };
  try {
    const name = 'playwright-core';
    const pw = (await import(name)) as { chromium: { launch(o: unknown): Promise<{ newPage(): Promise<{ goto(u: string): Promise<unknown>; evaluate(f: string): Promise<unknown> }>; close(): Promise<void> }> } };
    const b = await pw.chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    return {
      browser: {
        driver: 'playwright-core',
        async open(url) {
          const p = await b.newPage();
          await p.goto(url);
          return { evaluate: async <T>(e: string) => (await p.evaluate(e)) as T };
        },
        close: () => b.close(),
      },
    };
  } catch {
    // playwright-core not installed: CDP directly
  }
  try {
    return { browser: await launchCdp() };
  } catch (e) {
    return { skipped: `could not start ${CHROMIUM}: ${(e as Error).message}` };
  }
}

async function launchCdp(): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'perpchain-chromium-'));
  const child: ChildProcess = spawn(CHROMIUM, [...CHROMIUM_ARGS, '--remote-debugging-port=0', `--user-data-dir=${profile}`, 'about:blank'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const endpoint = await new Promise<string>((resolve, reject) => {
    let err = '';
    const t = setTimeout(() => reject(new Error(`no DevTools endpoint in 20 s: ${err.slice(-500)}`)), 20_000);
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /DevTools listening on (ws:\/\/\S+)/.exec(err);
      if (m) {
        clearTimeout(t);
        resolve(m[1]!);
      }
    });
    child.on('exit', (code) => reject(new Error(`chromium exited with ${code}: ${err.slice(-500)}`)));
  });
  const ws = new WebSocket(endpoint, { perMessageDeflate: false });
  await new Promise((r, j) => (ws.once('open', r), ws.once('error', j)));
  let nextId = 1;
  const pending = new Map<number, { resolve(v: any): void; reject(e: Error): void }>();
  ws.on('message', (d) => {
    const m = JSON.parse(d.toString()) as { id?: number; result?: unknown; error?: { message: string } };
    if (m.id === undefined) return;
    const p = pending.get(m.id);
    pending.delete(m.id);
    if (m.error) p?.reject(new Error(m.error.message));
    else p?.resolve(m.result);
  });
  const call = (method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<any> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      ws.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
    });
  return {
    driver: 'cdp',
    async open(url) {
      const { targetId } = (await call('Target.createTarget', { url })) as { targetId: string };
      const { sessionId } = (await call('Target.attachToTarget', { targetId, flatten: true })) as { sessionId: string };
      return {
        async evaluate<T>(expression: string): Promise<T> {
          const r = (await call('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true }, sessionId)) as { result: { value: T }; exceptionDetails?: { text: string; exception?: { description?: string } } };
          if (r.exceptionDetails) throw new Error(`page: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`);
          return r.result.value;
        },
      };
    },
    async close() {
      const exited = new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
      try {
        // a graceful close lets Chromium stop its helper processes too
        await Promise.race([call('Browser.close'), new Promise((r) => setTimeout(r, 3_000))]);
      } catch {
        /* already gone */
      }
      ws.close();
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
      await new Promise((r) => setTimeout(r, 200));
      try {
        rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
      } catch {
        /* best effort: a helper process may still hold the temp profile */
      }
    },
  };
}
