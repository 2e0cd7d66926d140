import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULTS, parseOptions, USAGE, wantsHelp } from './options.js';

test('--peer takes none or a list of known peers, each once; the floor writes its data 1 to 3 times', () => {
  assert.deepEqual(parseOptions([]).peers, []);
  assert.deepEqual(parseOptions(['--peer', 'none']).peers, []);
  assert.deepEqual(parseOptions(['--peer', 'floor']).peers, ['floor']);
  assert.deepEqual(parseOptions(['--peer', 'bullmq, floor,bullmq']).peers, ['bullmq', 'floor']);
  assert.throws(() => parseOptions(['--peer', 'floor,redis']), /--peer: unknown peer redis/);
  assert.equal(parseOptions([]).floorCopies, 1);
  assert.equal(parseOptions(['--floor-copies', '3']).floorCopies, 3);
  assert.throws(() => parseOptions(['--floor-copies', '4']), /--floor-copies must be an integer from 1 to 3/);
});

test('--help lists every flag with its default, and asks for no run', () => {
  for (const [flag, value] of Object.entries(DEFAULTS)) {
    assert.match(USAGE, new RegExp(`--${flag} `), `--${flag} in the usage`);
    // Empty defaults are computed (--timeout) or mean none (--json).
    if (value !== '') assert.ok(USAGE.includes(`[${value}]`), `--${flag}'s default ${value} in the usage`);
  }
  assert.equal(wantsHelp(['--help']), true);
  assert.equal(wantsHelp(['--events', '100', '-h']), true);
  assert.equal(wantsHelp(['--events', '100']), false);
  assert.throws(() => parseOptions(['--hlep', '1']), /unknown flag --hlep .*--help says more/);
});
