/**
 * The package as a user gets it: `npm pack`, then the tarball installed without dev
 * dependencies into an empty directory (offline, from npm's cache), then `messo serve` from
 * there answering /healthz and serving the dashboard. The better-sqlite3 addon comes from a
 * local prebuild of the one already built here (scripts/local-prebuild.js): GitHub, where its
 * prebuilds live, is not reachable, and compiling it again takes minutes.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { tempDir, waitUntil } from './harness.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  version: string; scripts: Record<string, string>; dependencies: Record<string, string>; files: string[];
};

describe('the packed package', () => {
  let dir: string;
  let tarball: string;
  let files: string[];
  before(() => {
    dir = tempDir('messo-pack-');
    // The build ran before the tests (dist/ is current): pack what it made, without prepack.
    const out = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: ROOT, encoding: 'utf8' });
    const info = JSON.parse(out)[0] as { filename: string; files: { path: string }[] };
    tarball = join(dir, info.filename);
    files = info.files.map((f) => f.path);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('holds what messo runs, and no tests or sources', () => {
    for (const f of ['bin/messo.js', 'dist/src/cli/index.js', 'dist/src/server.js', 'dist/web/index.html', 'README.md', 'package.json']) {
      assert.ok(files.includes(f), f);
    }
    assert.deepEqual(files.filter((f) => /\.test\.js$|\.map$|^src\/|^test\/|^dist\/test\/|^dist\/src\/bench\//.test(f)), []);
    assert.match(pkg.scripts.prepack, /npm run build/);
    assert.equal(pkg.scripts.prepare, undefined, 'no prepare: npm ci --omit=dev must not need tsc');
    assert.equal(pkg.dependencies.standardwebhooks, undefined, 'used by tests only');
    assert.equal(pkg.dependencies['@fastify/type-provider-typebox'], undefined, 'imported nowhere');
  });

  it('installs with --omit=dev from the cache, and messo serve answers /healthz', { timeout: 600_000 }, async () => {
    const prebuilds = join(dir, 'prebuilds');
    execFileSync(process.execPath, [join(ROOT, 'scripts', 'local-prebuild.js'), prebuilds, join(ROOT, 'node_modules', 'better-sqlite3')]);
    const app = join(dir, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), '{"name":"messo-install-test","private":true}\n');
    // npm, npx and messo find `node` on PATH: make it the Node running this test (CI runs it on
    // Node 24 too), so the install picks that Node's addon and messo runs on it.
    const PATH = `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}`;
    const started = Date.now();
    execFileSync('npm', ['install', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund', tarball], {
      cwd: app, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PATH, npm_config_better_sqlite3_local_prebuilds: prebuilds },
    });
    process.stdout.write(`# npm install --omit=dev of the tarball: ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    for (const dev of ['typescript', 'standardwebhooks', 'vite', 'eslint']) assert.ok(!existsSync(join(app, 'node_modules', dev)), `${dev} is not installed`);

    const version = execFileSync('npx', ['--no', '--', 'messo', '--version'], { cwd: app, encoding: 'utf8', env: { ...process.env, PATH } });
    assert.equal(version.trim(), pkg.version);

    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('MESSO_')) env[k] = v;
    const child = spawn('npx', ['--no', '--', 'messo', 'serve', '--json'], {
      cwd: app, stdio: ['ignore', 'pipe', 'pipe'], detached: true,
      env: { ...env, PATH, MESSO_PORT: '0', MESSO_LOG_LEVEL: 'warn', MESSO_DATABASE_URL: `sqlite:${join(app, 'data', 'messo.db')}` },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => { out += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { err += c.toString(); });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    try {
      await waitUntil(() => {
        if (child.exitCode !== null) throw new Error(`messo serve exited:\n${out}\n${err}`);
        return out.includes('\n');
      }, 60_000, 'messo serve to start');
      const { url, admin_token: token } = JSON.parse(out.split('\n')[0]) as { url: string; admin_token: string | null };
      const health = await fetch(`${url}/healthz`);
      assert.equal(health.status, 200);
      assert.deepEqual(await health.json(), { status: 'ok' });
      const page = await fetch(`${url}/`);
      assert.equal(page.status, 200);
      assert.match(page.headers.get('content-type') ?? '', /text\/html/);
      assert.match(token ?? '', /\S{16,}/, 'a first start prints a generated admin token');
      const tenants = await fetch(`${url}/api/tenants`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(tenants.status, 200, 'the store (better-sqlite3) works');
      const metrics = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text();
      assert.ok(metrics.includes(`node="${process.version}"`), `messo runs on this test's Node (${process.version})`);
    } finally {
      // npx runs messo as its child: end the whole group it started.
      try { process.kill(-child.pid!, 'SIGTERM'); } catch { /* already gone */ }
      await exited;
    }
  });
});
