import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OUTCOME, sqlStates, STATUS } from './sql.js';
import { DELIVERY_STATUSES, type DeliveryStatus } from './types.js';
import { sqliteMigrations } from './migrations/sqlite.js';
import { postgresMigrations } from './migrations/postgres.js';

test('a state becomes a quoted SQL literal; anything but a plain word is refused', () => {
  assert.deepEqual({ ...sqlStates({ perApp: 'per_application' }) }, { perApp: "'per_application'" });
  assert.equal(`status = ${STATUS.pending}`, "status = 'pending'");
  assert.equal(OUTCOME.failure, "'failure'");
  for (const bad of ["it's", 'a b', '', 'Pending', '1st', "x'; DROP TABLE deliveries; --"]) {
    assert.throws(() => sqlStates({ bad }), /not a state name/, bad);
  }
});

test('the states named by the frozen migrations (partial indexes) are delivery states still', () => {
  for (const [dialect, migrations] of [['sqlite', sqliteMigrations], ['postgres', postgresMigrations]] as const) {
    const named: string[] = [];
    for (const m of migrations) {
      // `status = 'x'` and `status IN ('x', 'y')`: up to the closing parenthesis or the line's end.
      for (const [, list] of m.sql.matchAll(/\bstatus\s*(?:=|IN)\s*\(?([^)\n;]*)/g)) {
        for (const [, word] of list.matchAll(/'([^']*)'/g)) named.push(word);
      }
    }
    // deliveries_due, deliveries_sending, deliveries_order (two), deliveries_failed, deliveries_lane,
    // deliveries_tenant_failed.
    assert.deepEqual(named.sort(), ['failed', 'failed', 'pending', 'pending', 'pending', 'sending', 'sending'], dialect);
    for (const word of named) assert.ok(DELIVERY_STATUSES.includes(word as DeliveryStatus), `${dialect}: '${word}'`);
  }
});
