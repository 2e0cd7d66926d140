// The OpenAPI document messo serves at /openapi.json, built without listening: the app over a
// throw-away SQLite file. Used by `npm run gen:api-types` and the contract tests.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export async function openapiDocument(dist = new URL('../dist/src/', import.meta.url)) {
  const { loadConfig } = await import(new URL('config.js', dist).href);
  const { openStore } = await import(new URL('store/index.js', dist).href);
  const { createRuntime } = await import(new URL('runtime.js', dist).href);
  const { createLogger } = await import(new URL('logger.js', dist).href);
  const { buildApp } = await import(new URL('app.js', dist).href);
  const dir = mkdtempSync(join(tmpdir(), 'messo-openapi-'));
  try {
    const config = loadConfig({ MESSO_DATABASE_URL: `sqlite:${join(dir, 'messo.db')}`, MESSO_ADMIN_TOKEN: 'openapi-document-token-0000', MESSO_LOG_LEVEL: 'silent' });
    const store = await openStore(config.databaseUrl);
    const runtime = createRuntime({ config, store, log: createLogger('silent') });
    const app = await buildApp(runtime, { adminTokenHash: '0'.repeat(64), logger: false });
    await app.ready();
    const doc = app.swagger();
    await app.close();
    await runtime.close();
    await store.close();
    return doc;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(`${JSON.stringify(await openapiDocument(), null, 2)}\n`);
}
