/**
 * Operations endpoints: liveness, readiness (which follows the store), the OpenAPI 3.1
 * document built from the route schemas, and the browsable reference.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from './harness.js';
import { assertProblem } from './api-helpers.js';

let server: TestServer;
before(async () => { server = await startTestServer(); });
after(async () => { await server.close(); });

describe('operations', () => {
  it('answers /healthz and /readyz without a token', async () => {
    const live = await server.api.get('/healthz');
    assert.equal(live.status, 200);
    assert.deepEqual(live.body, { status: 'ok' });
    const ready = await server.api.get('/readyz');
    assert.equal(ready.status, 200);
    assert.deepEqual(ready.body, { status: 'ready' });
    assert.ok(live.headers.get('x-request-id'), 'every answer carries its request id');
  });

  it('answers /readyz with 503 once the store is gone, while /healthz stays up', async () => {
    // No engine: nothing else may touch the store after it is closed.
    const doomed = await startTestServer({}, { engine: false });
    try {
      await doomed.store.close();
      assertProblem(await doomed.api.get('/readyz'), 503);
      assert.equal((await doomed.api.get('/healthz')).status, 200);
    } finally {
      await doomed.close();
    }
  });

  it('publishes an OpenAPI 3.1 document listing the main paths with their schemas', async () => {
    const r = await server.api.get('/openapi.json');
    assert.equal(r.status, 200);
    assert.equal(r.body.openapi, '3.1.0');
    const paths = r.body.paths as Record<string, Record<string, any>>;
    const expected: [string, string][] = [
      ['/api/tenants', 'post'], ['/api/tenants/{id}/keys', 'post'], ['/api/services', 'post'], ['/api/services/{id}', 'patch'],
      ['/api/applications', 'post'], ['/api/applications', 'get'], ['/api/applications/{id}', 'get'],
      ['/api/applications/{id}/transitions', 'post'], ['/api/applications/{id}/history', 'get'], ['/api/applications/{id}/messages', 'post'],
      ['/api/events', 'get'], ['/api/events', 'post'], ['/api/events/batch', 'post'],
      ['/api/webhooks', 'post'], ['/api/webhooks/{id}', 'patch'], ['/api/webhooks/{id}', 'delete'], ['/api/webhooks/{id}/rotate-secret', 'post'],
      ['/healthz', 'get'], ['/readyz', 'get'],
    ];
    for (const [path, method] of expected) assert.ok(paths[path]?.[method], `${method.toUpperCase()} ${path} is documented`);
    const transition = paths['/api/applications/{id}/transitions'].post;
    assert.ok(transition.requestBody.content['application/json'].schema.properties.status, 'body schemas come from the routes');
    const webhook = paths['/api/webhooks'].post.requestBody.content['application/json'].schema;
    assert.deepEqual([...webhook.required].sort(), ['endpoint', 'title']);
    assert.ok(r.body.components.securitySchemes.bearer);
  });

  it('serves the browsable reference at /docs', async () => {
    const r = await server.api.get('/docs');
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /text\/html/);
    assert.match(r.text, /swagger/i);
  });
});
