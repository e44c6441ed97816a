/**
 * Child processes for crash tests: spawn, read stdout/stderr line by line,
 * wait for a line matching a pattern (with a timeout), kill by pid.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface Proc {
  readonly child: ChildProcess;
  /** Every stdout and stderr line so far, in arrival order ("out: …" / "err: …"). */
  readonly lines: string[];
  /** Resolves with the first line (past or future) matching `re` on stdout or stderr. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Resolves when the process has exited and its output has been read to the end. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  send(line: string): void;
  kill(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startProc(command: string, args: string[], opts: SpawnOptions = {}): Proc {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], ...opts });
  const lines: string[] = [];
  const waiters: Array<{ re: RegExp; resolve: (m: RegExpMatchArray) => void }> = [];
  const onLine = (prefix: string) => (line: string) => {
    lines.push(`${prefix}: ${line}`);
    for (let i = 0; i < waiters.length; i++) {
      const m = line.match(waiters[i]!.re);
      if (m) {
        waiters[i]!.resolve(m);
        waiters.splice(i--, 1);
      }
    }
  };
  createInterface({ input: child.stdout! }).on('line', onLine('out'));
  createInterface({ input: child.stderr! }).on('line', onLine('err'));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })) /* after stdout/stderr are drained */);
  let done = false;
  void exited.then(() => (done = true));
  return {
    child,
    lines,
    exited,
    waitFor(re, timeoutMs = 20_000) {
      for (const l of lines) {
        const m = l.slice(5).match(re);
        if (m) return Promise.resolve(m);
      }
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${re}; output so far:\n${lines.slice(-30).join('\n')}`)), timeoutMs);
        const w = { re, resolve: (m: RegExpMatchArray) => (clearTimeout(t), resolve(m)) };
        waiters.push(w);
        void exited.then(() => {
          setTimeout(() => {
            if (waiters.includes(w)) {
              clearTimeout(t);
              reject(new Error(`process exited while waiting for ${re}; output:\n${lines.slice(-30).join('\n')}`));
            }
          }, 50);
        });
      });
    },
    send(line) {
      child.stdin!.write(line + '\n');
    },
    async kill(signal = 'SIGKILL') {
      if (!done && child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
