/** Offline administration straight on the store: tenants, API keys, the admin token. */
import type { Command } from 'commander';
import type { Store } from '../store/index.js';

// Loaded when a command runs, not for `messo --help` (the store brings the SQLite driver).
const tenants = () => import('../usecases/tenants.js');

async function withStore<T>(fn: (store: Store) => Promise<T>): Promise<T> {
  const cfg = (await import('./config.js')).config();
  const { openStore } = await import('../store/index.js');
  const store = await openStore(cfg.databaseUrl, { cloudEventsTypePrefix: cfg.cloudEventsTypePrefix });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

export function registerAdminCommands(program: Command): void {
  const tenant = program.command('tenant').description('manage tenants (enti) directly in the store');
  tenant.command('create')
    .description('create a tenant and a first API key, printed once')
    .requiredOption('--name <name>', 'e.g. "Comune di Bugliano"')
    .option('--slug <slug>', 'URL-safe name (default: from the name)')
    .option('--external-id <id>', "the OpenCity core's tenant id")
    .option('--json', 'print JSON')
    .action(async (opts: { name: string; slug?: string; externalId?: string; json?: boolean }) => {
      await withStore(async (store) => {
        const { createTenant, mintApiKey } = await tenants();
        const t = await createTenant(store, { name: opts.name, slug: opts.slug, external_id: opts.externalId });
        const { secret } = await mintApiKey(store, t.id, 'default');
        if (opts.json) process.stdout.write(`${JSON.stringify({ tenant: t, api_key: secret })}\n`);
        else process.stdout.write(`tenant ${t.id} (${t.name})\nAPI key (shown once): ${secret}\n`);
      });
    });
  tenant.command('list').description('list tenants').option('--json', 'print one JSON object per line').action(async (opts: { json?: boolean }) => {
    await withStore(async (store) => {
      let cursor: string | null = null;
      do {
        const page = await store.listTenants({ limit: 200, cursor });
        for (const t of page.items) {
          if (opts.json) process.stdout.write(`${JSON.stringify(t)}\n`);
          else process.stdout.write(`${t.id}\t${t.slug}\t${t.name}${t.external_id ? `\texternal_id=${t.external_id}` : ''}\n`);
        }
        cursor = page.next_cursor;
      } while (cursor);
    });
  });

  program.command('key')
    .description('manage API keys').command('create')
    .description('create an API key for a tenant, printed once')
    .requiredOption('--tenant <id>', 'tenant id')
    .option('--name <name>', 'a label for the key', 'cli')
    .option('--json', 'print JSON')
    .action(async (opts: { tenant: string; name: string; json?: boolean }) => {
      await withStore(async (store) => {
        const { mintApiKey } = await tenants();
        if (!(await store.getTenant(opts.tenant))) {
          process.stderr.write(`messo: tenant ${opts.tenant} not found\n`);
          process.exitCode = 1;
          return;
        }
        const { secret } = await mintApiKey(store, opts.tenant, opts.name);
        process.stdout.write(opts.json ? `${JSON.stringify({ tenant_id: opts.tenant, api_key: secret })}\n` : `${secret}\n`);
      });
    });

  program.command('admin-token')
    .description('print how the admin token is set; --reset replaces a generated one and prints it once')
    .option('--reset', 'generate a new admin token (the old one stops working)')
    .option('--json', 'print JSON: {source, admin_token} (the token only when generated now)')
    .action(async (opts: { reset?: boolean; json?: boolean }) => {
      const cfg = (await import('./config.js')).config();
      await withStore(async (store) => {
        const { resolveAdminToken } = await import('../usecases/admin-token.js');
        const admin = await resolveAdminToken(store, cfg, opts.reset === true && !cfg.adminToken);
        if (opts.json) process.stdout.write(`${JSON.stringify({ source: admin.source, admin_token: admin.generated ?? null })}\n`);
        else if (admin.generated) process.stdout.write(`${admin.generated}\n`);
        else if (admin.source === 'env') process.stdout.write('the admin token is MESSO_ADMIN_TOKEN\n');
        else process.stdout.write('an admin token exists (stored hashed); use --reset to replace it\n');
      });
    });
}
