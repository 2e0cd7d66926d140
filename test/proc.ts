/** Runs `messo` as a real child process (for restart, kill -9 and multi-process tests). */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/messo.js', import.meta.url));

export interface Proc {
  child: ChildProcess;
  url: string | null;
  output(): string;
  exited: Promise<number | null>;
}

/** Starts `messo <args>`; for `serve`, resolves once it prints where it listens. */
export async function startMesso(args: string[], env: Record<string, string>, timeoutMs = 15_000): Promise<Proc> {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, MESSO_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (c) => { out += c; });
  child.stderr!.on('data', (c) => { out += c; });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const proc: Proc = { child, url: null, output: () => out, exited };
  if (args[0] !== 'serve') return proc;
  const deadline = Date.now() + timeoutMs;
  while (!proc.url) {
    const m = /listening on (http:\/\/[^\s]+)/.exec(out);
    if (m) proc.url = m[1];
    else if (child.exitCode !== null) throw new Error(`messo exited early:\n${out}`);
    else if (Date.now() > deadline) throw new Error(`messo did not start:\n${out}`);
    else await new Promise((r) => setTimeout(r, 20));
  }
  return proc;
}
