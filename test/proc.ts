/** Runs `messo` as a real child process (for restart, kill -9 and multi-process tests). */
import { spawn, type ChildProcess } from 'node:child_process';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';

/**
 * Every child still running. When a test fails half-way (a timeout before its kill), its
 * children would keep this file's process alive through their pipes and the run would hang:
 * whatever is left is killed once the file's tests are over.
 */
const live = new Set<ChildProcess>();
after(() => {
  for (const child of live) child.kill('SIGKILL');
});

export const BIN = fileURLToPath(new URL('../../bin/messo.js', import.meta.url));

export interface Proc {
  child: ChildProcess;
  url: string | null;
  output(): string;
  exited: Promise<number | null>;
}

/**
 * Starts `messo <args>`; for `serve`, resolves once it prints where it listens. A start that
 * fails or takes too long kills the child before throwing: an orphan would keep the test file's
 * process alive through its pipes, and the run would hang instead of failing.
 */
export async function startMesso(args: string[], env: Record<string, string>, timeoutMs = 45_000): Promise<Proc> {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, MESSO_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (c) => { out += c; });
  child.stderr!.on('data', (c) => { out += c; });
  live.add(child);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => {
    live.delete(child);
    resolve(code);
  }));
  const proc: Proc = { child, url: null, output: () => out, exited };
  if (args[0] !== 'serve') return proc;
  const deadline = Date.now() + timeoutMs;
  while (!proc.url) {
    const m = /listening on (http:\/\/[^\s]+)/.exec(out);
    if (m) proc.url = m[1];
    else if (child.exitCode !== null) throw new Error(`messo exited early:\n${out}`);
    else if (Date.now() > deadline) {
      child.kill('SIGKILL');
      await exited;
      throw new Error(`messo did not start in ${timeoutMs} ms:\n${out}`);
    } else await new Promise((r) => setTimeout(r, 20));
  }
  return proc;
}
