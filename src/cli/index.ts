/**
 * The `messo` command. Every sub-command reads the same MESSO_* environment variables as
 * `npm start`, and has --help.
 */
import { Command } from 'commander';
import type { Config } from '../config.js';
import { createLogger } from '../logger.js';
import { openStore, SqlStore, transfer } from '../store/index.js';
import { startServer, stopOnSignals } from '../server.js';
import type { AdminToken } from '../usecases/admin-token.js';
import { registerAdminCommands } from './admin.js';
import { config, redactUrl } from './config.js';
import { registerInspectorCommands } from './inspector.js';
import { startWorker } from '../worker.js';

export function buildCli(): Command {
  const program = new Command();
  program
    .name('messo')
    .description('Webhooks for the pratiche of municipal digital services (OpenCity-compatible).\nSettings come from MESSO_* environment variables; see the README.')
    .showHelpAfterError();

  program.command('serve')
    .description('run the HTTP API and, unless MESSO_DISPATCHER=false, the delivery dispatcher')
    .option('--no-dispatcher', 'run the API only (deliveries are left to `messo worker` processes)')
    .action(async (opts: { dispatcher: boolean }) => {
      const cfg = config();
      if (!opts.dispatcher) cfg.dispatcher = false;
      const log = createLogger(cfg.logLevel);
      const server = await startServer(cfg, { logger: log });
      stopOnSignals(server.stop, log);
      printBanner(server.config, server.url, server.admin);
    });

  program.command('worker')
    .description('run the delivery dispatcher alone (any number of workers may share one PostgreSQL database)')
    .option('--port <port>', 'also serve /healthz and /metrics on this port', (v) => Number(v))
    .action(async (opts: { port?: number }) => {
      const cfg = config();
      const log = createLogger(cfg.logLevel);
      const worker = await startWorker(cfg, log, { port: opts.port });
      stopOnSignals(worker.stop, log);
      log.info({ store: redactUrl(cfg.databaseUrl), port: worker.port }, 'messo worker started');
    });

  program.command('migrate')
    .description('apply database migrations and exit (serve and worker also apply them at start)')
    .action(async () => {
      const cfg = config();
      const store = await openStore(cfg.databaseUrl);
      await store.close();
      process.stdout.write(`migrations applied to ${redactUrl(cfg.databaseUrl)}\n`);
    });

  program.command('migrate-store')
    .description('copy an installation to another store (e.g. SQLite to PostgreSQL); safe to run again, nothing is copied twice')
    .requiredOption('--from <url>', 'source, e.g. sqlite:./data/messo.db')
    .requiredOption('--to <url>', 'destination, e.g. postgres://user@host/messo')
    .action(async (opts: { from: string; to: string }) => {
      const from = await openStore(opts.from);
      const to = await openStore(opts.to);
      try {
        if (!(from instanceof SqlStore) || !(to instanceof SqlStore)) throw new Error('both stores must be SQL stores');
        const reports = await transfer(from.database, to.database);
        for (const r of reports) process.stdout.write(`${r.table.padEnd(20)} ${String(r.read).padStart(8)} read ${String(r.written).padStart(8)} written\n`);
        process.stdout.write(`copied ${redactUrl(opts.from)} → ${redactUrl(opts.to)}\n`);
      } finally {
        await from.close();
        await to.close();
      }
    });

  registerAdminCommands(program);
  registerInspectorCommands(program);
  return program;
}

function printBanner(cfg: Config, url: string, admin: AdminToken): void {
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
