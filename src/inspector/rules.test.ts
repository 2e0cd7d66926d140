import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allowedResponseHeader, checkResponses, sameSiteLocation, stepFor } from './rules.js';

const statuses = (steps: Parameters<typeof stepFor>[0], n: number) =>
  Array.from({ length: n }, (_, i) => stepFor(steps, i + 1)?.step.status ?? 'default');

test('500 three times then 200 for ever', () => {
  assert.deepEqual(statuses([{ status: 500, times: 3 }, { status: 200 }], 6), [500, 500, 500, 200, 200, 200]);
});

test('always 410', () => {
  assert.deepEqual(statuses([{ status: 410 }], 4), [410, 410, 410, 410]);
});

test('counted steps used up fall back to the default answer', () => {
  assert.deepEqual(statuses([{ status: 503, times: 2 }, { status: 429, times: 1 }], 5), [503, 503, 429, 'default', 'default']);
  assert.deepEqual(statuses(null, 2), ['default', 'default']);
  assert.deepEqual(statuses([], 1), ['default']);
});

test('a step without times before the last is refused, naming the field', () => {
  const problems = checkResponses([{ status: 500 }, { status: 200 }]);
  assert.equal(problems.length, 1);
  assert.equal(problems[0].field, 'responses.0.times');
});

test('header injection and reserved headers are refused', () => {
  const problems = checkResponses([{ status: 200, headers: { 'x-ok': 'fine', 'x-bad': 'a\r\nset-cookie: x=1', 'Content-Length': '3', 'bad name': 'v' } }]);
  assert.deepEqual(problems.map((p) => p.field).sort(), ['responses.0.headers.Content-Length', 'responses.0.headers.bad name', 'responses.0.headers.x-bad']);
});

test('rules cannot set cookies, clear site data, refresh, or send browsers off-site', () => {
  const headers = {
    'Set-Cookie': 'sid=1', 'clear-site-data': '"*"', Refresh: '0; url=https://evil.example', 'Strict-Transport-Security': 'max-age=1',
    Location: 'https://evil.example/', 'x-ok': 'fine',
  };
  const problems = checkResponses([{ status: 302, headers }]);
  assert.deepEqual(problems.map((p) => p.field).sort(), [
    'responses.0.headers.Location', 'responses.0.headers.Refresh', 'responses.0.headers.Set-Cookie',
    'responses.0.headers.Strict-Transport-Security', 'responses.0.headers.clear-site-data',
  ]);
  for (const off of ['//evil.example', '/\\evil.example', '/\t/evil.example', 'http://x', 'javascript:alert(1)', ' //evil']) {
    assert.equal(sameSiteLocation(off), false, off);
    assert.equal(allowedResponseHeader('location', off), false, off);
  }
  for (const on of ['/in/bin_x/next', '/', '?page=2', '#top']) assert.equal(sameSiteLocation(on), true, on);
  assert.equal(allowedResponseHeader('set-cookie', 'a=1'), false);
  assert.equal(allowedResponseHeader('x-custom', 'v'), true);
});
