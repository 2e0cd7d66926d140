import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applicationTerms, MAX_TERMS, queryWords, words } from './search.js';

test('words: lower case, accents dropped, split on anything but letters and digits', () => {
  assert.deepEqual(words('Niccolò  D\'Àlfonso-Rossi'), ['niccolo', 'd', 'alfonso', 'rossi']);
  assert.deepEqual(words('2024/0012345'), ['2024', '0012345']);
  assert.deepEqual(words('—'), []);
  for (const w of words('AbcÉ 09 zz')) assert.match(w, /^[a-z0-9]+$/);
});

test('a pratica is found by applicant, codice fiscale, subject, protocol number and short id', () => {
  const terms = applicationTerms({
    id: 'b5c2e6d6-1111-4222-8333-444455556666', user_name: 'Mario Rossi', subject: 'Iscrizione asilo nido',
    protocol_number: 'PG/2024/77', data: {
      'applicant.data.fiscal_code.data.fiscal_code': 'RSSMRA80A01L378Y', 'applicant.data.completename.data.surname': 'Bianchi',
      'applicant.data.email_address': 'not@indexed.it', 'other.name': 'ignored',
    },
  });
  for (const t of ['b5c2e6d6', 'mario', 'rossi', 'iscrizione', 'pg', '2024', '77', 'rssmra80a01l378y', 'bianchi']) assert.ok(terms.includes(t), t);
  assert.ok(!terms.includes('indexed') && !terms.includes('ignored'), 'only the applicant\'s name fields');
  assert.ok(!terms.includes('1111') && !terms.includes('444455556666'), 'the id by its short form only');
});

test('terms and query words are bounded', () => {
  const long = Array.from({ length: 200 }, (_, i) => `w${i}`).join(' ');
  assert.equal(applicationTerms({ subject: long }).length, MAX_TERMS);
  assert.equal(queryWords(long).length, 6);
  assert.deepEqual(queryWords('Rossi rossi  MARIO'), ['rossi', 'mario']);
  assert.ok(words('x'.repeat(1000))[0].length <= 40);
});
