/** Runs the real `messo` command (bin/messo.js over the compiled CLI) as a child process. */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const MESSO_BIN = fileURLToPath(new URL('../../bin/messo.js', import.meta.url));

/** The environment without any MESSO_* of the developer running the tests. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('MESSO_')) env[k] = v;
  return { ...env, ...extra };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], opts: { env?: Record<string, string>; input?: string | Buffer; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MESSO_BIN, ...args], { env: cleanEnv(opts.env) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`messo ${args.join(' ')} did not finish within ${opts.timeoutMs ?? 15_000} ms\n${stdout}\n${stderr}`));
    }, opts.timeoutMs ?? 15_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** A long-running `messo` child whose output lines can be awaited. */
export class CliProcess {
  readonly lines: string[] = [];
  readonly errLines: string[] = [];
  readonly exited: Promise<number | null>;
  private constructor(readonly child: ChildProcessWithoutNullStreams) {
    const split = (into: string[]) => {
      let rest = '';
      return (chunk: Buffer) => {
        rest += chunk.toString();
        const parts = rest.split('\n');
        rest = parts.pop()!;
        into.push(...parts);
      };
    };
    child.stdout.on('data', split(this.lines));
    child.stderr.on('data', split(this.errLines));
    this.exited = new Promise((resolve) => child.on('close', resolve));
  }

  static start(args: string[], env: Record<string, string> = {}): CliProcess {
    return new CliProcess(spawn(process.execPath, [MESSO_BIN, ...args], { env: cleanEnv(env) }));
  }

  async stop(): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    return this.exited;
  }
}
