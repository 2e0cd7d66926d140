/**
 * The server's side of the dashboard, without a browser: the app answers its client routes,
 * never a server path; assets are cached for good, index.html never; and a server whose
 * dashboard was not built says how to build it.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import Fastify from 'fastify';
import { dashboardPlugin, NOT_BUILT_TEXT } from '../src/http/dashboard.js';
import { startTestServer, tempDir } from './harness.js';

const DASHBOARD = resolve(import.meta.dirname, '../web/index.html');

describe('dashboard serving', () => {
  it('answers / and client routes with the app, never a server path', { skip: !existsSync(DASHBOARD) && 'the dashboard is not built' }, async () => {
    const server = await startTestServer();
    try {
      for (const path of ['/', '/webhooks/wh_1', '/inspector/bin_x?request=req_1', '/index.html']) {
        const r = await server.api.get(path);
        assert.equal(r.status, 200, path);
        assert.match(r.headers.get('content-type')!, /text\/html/);
        assert.match(r.text, /<div id="app">/);
        assert.match(r.headers.get('content-security-policy')!, /default-src 'self'/);
      }
      // Unknown server paths stay problem+json 404s; a missing asset is not the app either.
      for (const path of ['/api/nope', '/api', '/in', '/public/inspector', '/assets/gone-1234.js', '/metrics/x']) {
        const r = await server.api.get(path);
        assert.equal(r.status, 404, path);
        assert.match(r.headers.get('content-type')!, /application\/problem\+json/, path);
      }
      assert.equal((await server.api.get('/healthz')).body.status, 'ok');
      assert.equal((await server.api.post('/api/nope', {})).status, 404);
      const asset = /src="(\/assets\/[^"]+\.js)"/.exec((await server.api.get('/')).text)![1];
      const js = await server.api.get(asset);
      assert.equal(js.status, 200);
      assert.match(js.headers.get('cache-control')!, /immutable/);
      assert.equal((await server.api.get('/')).headers.get('cache-control'), 'no-cache');
      // The catch-all is not part of the API description.
      const doc = await server.api.get('/openapi.json');
      assert.ok(!Object.keys(doc.body.paths).some((p) => p === '/' || p.includes('*')));
    } finally {
      await server.close();
    }
  });

  it('says how to build it when dist/web is missing', async () => {
    const app = Fastify();
    await app.register(dashboardPlugin({ dir: tempDir('messo-noweb-') }));
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      for (const path of ['/', '/webhooks']) {
        const r = await fetch(url + path);
        assert.equal(r.status, 200);
        assert.equal(await r.text(), NOT_BUILT_TEXT);
      }
      assert.equal((await fetch(`${url}/api/webhooks`)).status, 404);
    } finally {
      await app.close();
    }
  });
});
