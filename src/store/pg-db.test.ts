import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { parsePostgresUrl, redactUrl } from './database-url.js';
import { isSchemaName, numberPlaceholders, openPostgres } from './pg-db.js';

test('numbers ? placeholders left to right, leaving quoted text alone', () => {
  assert.equal(numberPlaceholders('SELECT * FROM t WHERE a = ? AND b IN (?, ?) LIMIT ?'),
    'SELECT * FROM t WHERE a = $1 AND b IN ($2, $3) LIMIT $4');
  assert.equal(numberPlaceholders(`SELECT '?', 'it''s ?', "odd?col" FROM t WHERE x = ?`),
    `SELECT '?', 'it''s ?', "odd?col" FROM t WHERE x = $1`);
  assert.equal(numberPlaceholders('SELECT 1'), 'SELECT 1');
});

test('takes our schema parameter off the URL and keeps the rest', () => {
  const p = parsePostgresUrl('postgres://u:pw@db.example:5433/messo?schema=tenant_a&sslmode=require');
  assert.equal(p.schema, 'tenant_a');
  assert.equal(p.url, 'postgres://u:pw@db.example:5433/messo?sslmode=require');
  assert.equal(parsePostgresUrl('postgresql://db/messo').schema, undefined);
  assert.equal(p.prepare, true);
  const off = parsePostgresUrl('postgres://db/messo?prepared_statements=false&schema=a');
  assert.deepEqual([off.url, off.schema, off.prepare], ['postgres://db/messo', 'a', false]);
  assert.throws(() => parsePostgresUrl('postgres://db/messo?prepared_statements=no'), /prepared_statements=no in the database URL: use true or false/);
});

test('a Unix socket as libpq writes it (an empty host) reaches node-postgres as written', () => {
  // `new URL` refuses an empty host after user info: parsing the URL whole broke this form.
  const p = parsePostgresUrl('postgres://messo@/messo?host=/run/postgresql&schema=a&prepared_statements=false');
  assert.deepEqual([p.schema, p.prepare], ['a', false]);
  const read = new pg.Client({ connectionString: p.url });
  assert.deepEqual([read.host, read.user, read.database], ['/run/postgresql', 'messo', 'messo']);
  const encoded = parsePostgresUrl('postgres://messo@%2Frun%2Fpostgresql/messo?schema=b');
  assert.equal(new pg.Client({ connectionString: encoded.url }).host, '/run/postgresql');
  assert.equal(encoded.url, 'postgres://messo@%2Frun%2Fpostgresql/messo');
});

test('schema names are plain identifiers; anything else is refused before it reaches SQL', () => {
  assert.ok(isSchemaName('messo_t_0a1b2c'));
  for (const bad of ['', '1abc', 'a-b', 'a;drop', 'a b', 'x'.repeat(64), 'a"b']) assert.equal(isSchemaName(bad), false, bad);
  assert.throws(() => openPostgres('postgres://127.0.0.1/x', { schema: 'a;b' }), /letters, digits and underscore/);
});

test('a URL shown in logs never carries the password', () => {
  assert.equal(redactUrl('postgres://messo:s3cret@db:5432/messo?schema=a'), 'postgres://messo:***@db:5432/messo?schema=a');
  assert.equal(redactUrl('postgres://messo@db/messo'), 'postgres://messo@db/messo');
  assert.equal(redactUrl('postgres://db/messo?user=messo&password=s3cret'), 'postgres://db/messo?user=messo&password=***');
  assert.equal(redactUrl('postgres://messo:s3cret@/messo?host=/run/postgresql&sslpassword=k3y'),
    'postgres://messo:***@/messo?host=%2Frun%2Fpostgresql&sslpassword=***');
  assert.equal(redactUrl('sqlite:/var/lib/messo/messo.db'), 'sqlite:/var/lib/messo/messo.db');
  // node-postgres takes the last @ of the host part: the password holds the others.
  assert.equal(redactUrl('postgres://messo:p@ss@db/messo'), 'postgres://messo:***@db/messo');
  // A URL node-postgres cannot read either (a / in the password): nothing of it is shown.
  assert.equal(redactUrl('postgres://messo:pa/ss@db/messo'), 'postgres://…');
  const db = openPostgres('postgres://messo:s3cret@127.0.0.1:1/x', { schema: 'a' });
  assert.ok(!db.displayUrl.includes('s3cret'));
  assert.match(db.displayUrl, /\(schema a\)$/);
  return db.close();
});
