import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forwardUrl } from './inspector-listen.js';

const c = (path: string, query = '') => ({ path, query });

test('a capture sub-path is appended under --forward-to, queries merged', () => {
  assert.equal(forwardUrl('http://localhost:8080/hook', c('/a/b', 'x=1')), 'http://localhost:8080/hook/a/b?x=1');
  assert.equal(forwardUrl('http://localhost:8080/hook?k=v', c('', 'x=1')), 'http://localhost:8080/hook?k=v&x=1');
  assert.equal(forwardUrl('http://localhost:8080', c('/a')), 'http://localhost:8080/a');
});

test('no spelling of .. climbs out of the --forward-to path', () => {
  const target = 'http://localhost:8080/hook';
  for (const path of ['/../admin', '/%2e%2e/admin', '/%2E%2e/%2e%2E/admin', '/.%2e/admin', '/%2e./admin', '/..\\admin', '/\\..\\admin', '/a/../../admin', '/%2e%2e%2fadmin', '/./../x']) {
    let url: string;
    try {
      url = forwardUrl(target, c(path));
    } catch {
      continue; // refused outright: also fine
    }
    const pathname = new URL(url).pathname;
    assert.ok(pathname.startsWith('/hook/'), `${path} → ${url}`);
  }
});
