/**
 * The `messo` command. Every sub-command reads the same MESSO_* environment variables as
 * `npm start`, and has --help.
 */
import { dirname } from 'node:path';
import { Command } from 'commander';
import type { Config } from '../config.js';
import type { AdminToken } from '../usecases/admin-token.js';
import { VERSION } from '../version.js';
import { registerAdminCommands } from './admin.js';
import { boundHeapGrowth } from './heap.js';
import { registerInspectorCommands } from './inspector.js';

// Each command loads what it runs when it runs (the store, Fastify, the dispatcher…), so
// `messo --help` and `messo --version` load commander and little else.
const store = () => import('../store/index.js');
const cliConfig = () => import('./config.js');

export function buildCli(): Command {
  const program = new Command();
  program
    .name('messo')
    .description('Webhooks for the pratiche of municipal digital services (OpenCity-compatible).\nSettings come from MESSO_* environment variables; see the README.')
    .version(VERSION, '-V, --version', 'print the version of messo')
    .showHelpAfterError();

  program.command('serve')
    .description('run the HTTP API and, unless MESSO_DISPATCHER=false, the delivery dispatcher')
    .option('--no-dispatcher', 'run the API only (deliveries are left to `messo worker` processes)')
    .option('--json', 'print where it listens as one JSON line on stdout instead of the banner')
    .action(async (opts: { dispatcher: boolean; json?: boolean }) => {
      const { config, redactUrl } = await cliConfig();
      const cfg = config();
      if (!opts.dispatcher) cfg.dispatcher = false;
      boundHeapGrowth();
      const [{ createLogger }, { startServer, stopOnSignals }] = await Promise.all([import('../logger.js'), import('../server.js')]);
      const log = createLogger(cfg.logLevel);
      const server = await startServer(cfg, { logger: log });
      stopOnSignals(server.stop, log);
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({
          url: server.url, public_url: server.config.publicUrl, store: redactUrl(cfg.databaseUrl), dispatcher: server.config.dispatcher,
          version: VERSION, admin_token: server.admin.generated ?? null, admin_token_source: server.admin.source,
        })}\n`);
      } else printBanner(server.config, server.url, server.admin, redactUrl);
    });

  program.command('worker')
    .description('run the delivery dispatcher alone (any number of workers may share one PostgreSQL database)')
    .option('--port <port>', 'also serve /healthz and /metrics on this port (default: MESSO_WORKER_PORT)', (v) => Number(v))
    .action(async (opts: { port?: number }) => {
      const { config, redactUrl } = await cliConfig();
      const cfg = config();
      boundHeapGrowth();
      const [{ createLogger }, { stopOnSignals }, { startWorker }] = await Promise.all([import('../logger.js'), import('../server.js'), import('../worker.js')]);
      const log = createLogger(cfg.logLevel);
      const worker = await startWorker(cfg, log, { port: opts.port ?? cfg.workerPort ?? undefined });
      stopOnSignals(worker.stop, log);
      log.info({ store: redactUrl(cfg.databaseUrl), port: worker.port }, 'messo worker started');
    });

  program.command('migrate')
    .description('apply database migrations and exit (serve and worker also apply them at start)')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const { config, redactUrl } = await cliConfig();
      const cfg = config();
      const s = await (await store()).openStore(cfg.databaseUrl);
      await s.close();
      if (opts.json) process.stdout.write(`${JSON.stringify({ migrated: redactUrl(cfg.databaseUrl) })}\n`);
      else process.stdout.write(`migrations applied to ${redactUrl(cfg.databaseUrl)}\n`);
    });

  program.command('migrate-store')
    .description('copy an installation to another store (e.g. SQLite to PostgreSQL); safe to run again, nothing is copied twice')
    .requiredOption('--from <url>', 'source, e.g. sqlite:./data/messo.db')
    .requiredOption('--to <url>', 'destination, e.g. postgres://user@host/messo')
    .option('--json', 'print the tables copied as JSON')
    .action(async (opts: { from: string; to: string; json?: boolean }) => {
      const { redactUrl } = await cliConfig();
      const { openStore, resolveKeyring, SqlStore, transfer } = await store();
      const { defaultDataDir } = await import('../config.js');
      // One keyring for both: sealed secrets are copied as they are, and must open at the destination.
      // (MESSO_ENCRYPTION_KEY, else the key file beside the source; keep using that key afterwards.)
      const keyring = resolveKeyring({
        encryptionKey: process.env.MESSO_ENCRYPTION_KEY?.trim() || null, dataDir: process.env.MESSO_DATA_DIR?.trim() || defaultDataDir(opts.from),
      });
      const from = await openStore(opts.from, { keyring });
      const to = await openStore(opts.to, { keyring });
      try {
        if (!(from instanceof SqlStore) || !(to instanceof SqlStore)) throw new Error('both stores must be SQL stores');
        const reports = await transfer(from.database, to.database);
        if (opts.json) {
          process.stdout.write(`${JSON.stringify({ from: redactUrl(opts.from), to: redactUrl(opts.to), tables: reports })}\n`);
          return;
        }
        for (const r of reports) process.stdout.write(`${r.table.padEnd(20)} ${String(r.read).padStart(8)} read ${String(r.written).padStart(8)} written\n`);
        process.stdout.write(`copied ${redactUrl(opts.from)} → ${redactUrl(opts.to)}\n`);
        if (keyring.path) {
          process.stdout.write(`secrets were copied sealed with the key in ${keyring.path}: start the new installation with `
            + `MESSO_DATA_DIR=${dirname(keyring.path)} (or that key in MESSO_ENCRYPTION_KEY)\n`);
        }
      } finally {
        await from.close();
        await to.close();
      }
    });

  registerAdminCommands(program);
  registerInspectorCommands(program);
  return program;
}

function printBanner(cfg: Config, url: string, admin: AdminToken, redactUrl: (u: string) => string): void {
  const base = cfg.publicUrl;
  const lines = [
    '',
    `  messo is listening on ${url}  (public URL ${base})`,
    `  store: ${redactUrl(cfg.databaseUrl)}   dispatcher: ${cfg.dispatcher ? 'on' : 'off'}`,
    `  dashboard: ${base}/   API reference: ${base}/docs`,
    '',
  ];
  if (admin.source === 'generated') {
    lines.push('  Admin token (shown only this once; save it now, it is stored hashed):', `    ${admin.generated}`, '');
  } else if (admin.source === 'env') {
    lines.push('  Admin token: the value of MESSO_ADMIN_TOKEN.', '');
  } else {
    lines.push('  Admin token: the one printed at first start (stored hashed).',
      '  Lost it? Set MESSO_ADMIN_TOKEN, or run `npx messo admin-token --reset` to print a new one.', '');
  }
  lines.push(
    '  Create a tenant, then an API key for it:',
    `    curl -s -X POST ${base}/api/tenants -H "Authorization: Bearer $ADMIN_TOKEN" -H 'Content-Type: application/json' -d '{"name":"Comune di Esempio"}'`,
    `    curl -s -X POST ${base}/api/tenants/<tenant id>/keys -H "Authorization: Bearer $ADMIN_TOKEN"`,
    '  or offline: npx messo tenant create --name "Comune di Esempio"',
    '',
  );
  process.stderr.write(`${lines.join('\n')}\n`);
}

export async function main(argv: string[]): Promise<void> {
  await buildCli().parseAsync(argv);
}
