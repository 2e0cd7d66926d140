/** Offline administration straight on the store: tenants, API keys, the admin token. */
import type { Command } from 'commander';
import { openStore } from '../store/index.js';
import { resolveAdminToken } from '../usecases/admin-token.js';
import { createTenant, mintApiKey } from '../usecases/tenants.js';
import { config } from './config.js';

async function withStore<T>(fn: (store: Awaited<ReturnType<typeof openStore>>) => Promise<T>): Promise<T> {
  const store = await openStore(config().databaseUrl);
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
        const t = await createTenant(store, { name: opts.name, slug: opts.slug, external_id: opts.externalId });
        const { secret } = await mintApiKey(store, t.id, 'default');
        if (opts.json) process.stdout.write(`${JSON.stringify({ tenant: t, api_key: secret })}\n`);
        else process.stdout.write(`tenant ${t.id} (${t.name})\nAPI key (shown once): ${secret}\n`);
      });
    });
  tenant.command('list').description('list tenants').action(async () => {
    await withStore(async (store) => {
      let cursor: string | null = null;
      do {
        const page = await store.listTenants({ limit: 200, cursor });
        for (const t of page.items) process.stdout.write(`${t.id}\t${t.slug}\t${t.name}${t.external_id ? `\texternal_id=${t.external_id}` : ''}\n`);
        cursor = page.next_cursor;
      } while (cursor);
    });
  });

  program.command('key')
    .description('manage API keys').command('create')
    .description('create an API key for a tenant, printed once')
    .requiredOption('--tenant <id>', 'tenant id')
    .option('--name <name>', 'a label for the key', 'cli')
    .action(async (opts: { tenant: string; name: string }) => {
      await withStore(async (store) => {
        if (!(await store.getTenant(opts.tenant))) {
          process.stderr.write(`messo: tenant ${opts.tenant} not found\n`);
          process.exitCode = 1;
          return;
        }
        const { secret } = await mintApiKey(store, opts.tenant, opts.name);
        process.stdout.write(`${secret}\n`);
      });
    });

  program.command('admin-token')
    .description('print how the admin token is set; --reset replaces a generated one and prints it once')
    .option('--reset', 'generate a new admin token (the old one stops working)')
    .action(async (opts: { reset?: boolean }) => {
      const cfg = config();
      await withStore(async (store) => {
        const admin = await resolveAdminToken(store, cfg, opts.reset === true && !cfg.adminToken);
        if (admin.generated) process.stdout.write(`${admin.generated}\n`);
        else if (admin.source === 'env') process.stdout.write('the admin token is MESSO_ADMIN_TOKEN\n');
        else process.stdout.write('an admin token exists (stored hashed); use --reset to replace it\n');
      });
    });
}
