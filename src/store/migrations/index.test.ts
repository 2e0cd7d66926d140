import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitStatements } from './index.js';
import { postgresMigrations } from './postgres.js';
import { sqliteMigrations } from './sqlite.js';

test('a migration splits on semicolons at line ends, a one-line DO block stays whole', () => {
  const sql = `
-- why the first
CREATE TABLE a (x INTEGER);
CREATE INDEX a_x ON a(x);
DO $$ BEGIN EXECUTE 'SELECT 1'; EXECUTE 'SELECT 2'; END $$;
`;
  assert.deepEqual(splitStatements(sql), [
    '-- why the first\nCREATE TABLE a (x INTEGER)',
    'CREATE INDEX a_x ON a(x)',
    "DO $$ BEGIN EXECUTE 'SELECT 1'; EXECUTE 'SELECT 2'; END $$",
  ]);
});

test('a part that holds only comments is no statement', () => {
  assert.deepEqual(splitStatements('\n-- nothing to do here\n-- and why\n'), []);
  assert.deepEqual(splitStatements('-- a note;\nSELECT 1;\n-- trailing note\n'), ['SELECT 1']);
});

test('every step runs at least one statement on one of the stores', () => {
  for (const [i, m] of sqliteMigrations.entries()) {
    const n = splitStatements(m.sql).length + splitStatements(postgresMigrations[i].sql).length;
    assert.ok(n > 0, `migration ${m.id} does nothing on either store`);
  }
});
