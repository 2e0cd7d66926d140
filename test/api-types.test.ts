/**
 * The dashboard's API types (web/src/api-types.ts) are generated from the OpenAPI document by
 * `npm run gen:api-types` (openapi-typescript): this fails when the committed file is not what
 * the current route schemas generate.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { it } from 'node:test';

it('web/src/api-types.ts is what npm run gen:api-types makes of the current document', () => {
  const r = spawnSync(process.execPath, ['scripts/gen-api-types.js', '--check'], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, `${r.stderr}${r.stdout}`);
});
