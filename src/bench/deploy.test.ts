import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isLoopbackDatabase } from './deploy.js';

test("a database URL is this machine's when its host is a loopback address or a socket path", () => {
  for (const url of ['postgres://postgres@127.0.0.1:5432/test', 'postgres://u@localhost/db', 'postgres://u@[::1]:5432/db',
    'postgres://u@127.0.0.2/db', 'postgres://u@%2Fvar%2Frun%2Fpostgresql/db', 'postgresql:///db',
    'postgres://u@/db?host=/var/run/postgresql', 'postgres://u@db.example/db?host=localhost']) {
    assert.equal(isLoopbackDatabase(url), true, url);
  }
  for (const url of ['postgres://u@db.example:5432/db', 'postgres://u@10.0.0.5/db', 'postgres://u@128.0.0.1/db', 'postgres://u@/db?host=db.example']) {
    assert.equal(isLoopbackDatabase(url), false, url);
  }
});
