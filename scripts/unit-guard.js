// Preloaded into every unit test process (`node scripts/test.js --unit`): a unit test is a pure
// module's test, so listening, connecting, resolving a name or starting a process fails it at
// once. Tests that need any of these belong in test/. (A database opened in a unit test is not
// caught here: SQLite needs none of these.)
import cp from 'node:child_process';
import dns from 'node:dns';
import net from 'node:net';
import { syncBuiltinESMExports } from 'node:module';

const refuse = (what) => function () {
  throw new Error(`a unit test may not ${what}: move it to test/ (see scripts/test.js)`);
};
net.Server.prototype.listen = refuse('listen');
net.Socket.prototype.connect = refuse('connect');
dns.lookup = refuse('resolve names');
dns.promises.lookup = refuse('resolve names');
for (const k of ['spawn', 'spawnSync', 'fork', 'exec', 'execSync', 'execFile', 'execFileSync']) cp[k] = refuse('start processes');
// `import { spawn } from 'node:child_process'` binds to the module's ESM exports: update them too.
syncBuiltinESMExports();
