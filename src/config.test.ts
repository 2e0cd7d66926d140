import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig, parseSize } from './config.js';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.problems;
  }
  assert.fail('expected a ConfigError');
}

describe('loadConfig', () => {
  it('has working defaults with no environment at all', () => {
    const c = loadConfig({});
    assert.equal(c.port, 3000);
    assert.equal(c.host, '127.0.0.1');
    assert.equal(c.databaseUrl, 'sqlite:./data/messo.db');
    assert.equal(c.adminToken, null);
    assert.equal(c.publicUrl, 'http://127.0.0.1:3000');
    assert.equal(c.logLevel, 'info');
    assert.equal(c.bodyLimit, 5 * 1024 * 1024);
  });

  it('reads every documented MESSO_* variable', () => {
    const c = loadConfig({
      MESSO_PORT: '8080', MESSO_HOST: '0.0.0.0', MESSO_DATABASE_URL: 'sqlite:/tmp/x.db', MESSO_ADMIN_TOKEN: 'a-long-admin-token-123',
      MESSO_PUBLIC_URL: 'https://webhooks.comune.example.it/', MESSO_LOG_LEVEL: 'DEBUG', MESSO_BODY_LIMIT: '512kb',
    });
    assert.equal(c.port, 8080);
    assert.equal(c.host, '0.0.0.0');
    assert.equal(c.databaseUrl, 'sqlite:/tmp/x.db');
    assert.equal(c.adminToken, 'a-long-admin-token-123');
    assert.equal(c.publicUrl, 'https://webhooks.comune.example.it', 'no trailing slash');
    assert.equal(c.logLevel, 'debug');
    assert.equal(c.bodyLimit, 512 * 1024);
    assert.equal(loadConfig({ MESSO_DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test' }).databaseUrl, 'postgres://postgres@127.0.0.1:5432/test');
    assert.equal(loadConfig({ MESSO_PORT: ' ' }).port, 3000, 'blank means default');
  });

  it('gives one clear line per bad value, all at once, naming the variable', () => {
    const problems = problemsOf({
      MESSO_PORT: 'eighty', MESSO_DATABASE_URL: 'mysql://db/messo', MESSO_ADMIN_TOKEN: 'short-secret',
      MESSO_PUBLIC_URL: 'ftp://example.org', MESSO_LOG_LEVEL: 'loud', MESSO_BODY_LIMIT: 'huge',
    });
    const names = ['MESSO_PORT', 'MESSO_DATABASE_URL', 'MESSO_ADMIN_TOKEN', 'MESSO_PUBLIC_URL', 'MESSO_LOG_LEVEL', 'MESSO_BODY_LIMIT'];
    assert.equal(problems.length, names.length, problems.join('\n'));
    for (const name of names) {
      const lines = problems.filter((p) => p.startsWith(name));
      assert.equal(lines.length, 1, `one line for ${name}: ${problems.join(' | ')}`);
      assert.ok(!lines[0].includes('\n') && lines[0].length < 200, lines[0]);
    }
    assert.ok(!problems.join('\n').includes('short-secret'), 'the admin token is never printed');
    const message = new ConfigError(problems).message;
    assert.equal(message.split('\n').length, names.length + 1, 'a heading, then one line per problem');
  });

  it('refuses out-of-range numbers and sizes', () => {
    assert.match(problemsOf({ MESSO_PORT: '70000' })[0], /^MESSO_PORT=70000: .*0 to 65535/);
    assert.match(problemsOf({ MESSO_PORT: '3000.5' })[0], /^MESSO_PORT=/);
    assert.match(problemsOf({ MESSO_PORT: '-1' })[0], /^MESSO_PORT=/);
    assert.match(problemsOf({ MESSO_BODY_LIMIT: '10' })[0], /^MESSO_BODY_LIMIT=10: .*at least 1kb/);
    assert.match(problemsOf({ MESSO_BODY_LIMIT: '-5mb' })[0], /^MESSO_BODY_LIMIT=/);
    assert.match(problemsOf({ MESSO_DATABASE_URL: 'sqlite:' })[0], /^MESSO_DATABASE_URL=/);
    for (const port of ['1e3', '0x50', '80.0', '+80']) assert.match(problemsOf({ MESSO_PORT: port })[0] ?? '', /^MESSO_PORT=/, port);
  });

  it('refuses a host that is neither an IP address nor a host name', () => {
    for (const host of ['::', '::1', '0.0.0.0', 'localhost', 'messo.comune.example.it']) assert.equal(loadConfig({ MESSO_HOST: host }).host, host);
    for (const host of ['http://0.0.0.0', 'local host', '127.0.0.1:3000', 'bad_name!']) {
      assert.match(problemsOf({ MESSO_HOST: host })[0] ?? '', /^MESSO_HOST=.*: must be an IP address or a host name/, host);
    }
  });

  it('validates MESSO_ENCRYPTION_KEY without showing it, and finds the data directory', () => {
    const key = Buffer.alloc(32, 7).toString('base64');
    assert.equal(loadConfig({ MESSO_ENCRYPTION_KEY: `new:${key},old:${key.replace('B', 'C')}` }).encryptionKey, `new:${key},old:${key.replace('B', 'C')}`);
    assert.equal(loadConfig({}).encryptionKey, null);
    for (const bad of ['short', `a:${Buffer.alloc(16).toString('base64')}`, `a:${key},a:${key}`]) {
      const [problem] = problemsOf({ MESSO_ENCRYPTION_KEY: bad });
      assert.match(problem ?? '', /^MESSO_ENCRYPTION_KEY: key \d: .*\(the value is not shown\)$/, bad);
      assert.ok(!problem.includes(key) && !problem.includes(bad));
    }
    assert.equal(loadConfig({}).dataDir, './data');
    assert.equal(loadConfig({ MESSO_DATABASE_URL: 'sqlite:/var/lib/messo/messo.db' }).dataDir, '/var/lib/messo');
    assert.equal(loadConfig({ MESSO_DATABASE_URL: 'sqlite:messo.db' }).dataDir, '.');
    assert.equal(loadConfig({ MESSO_DATABASE_URL: 'postgres://u@h/db' }).dataDir, './data');
    assert.equal(loadConfig({ MESSO_DATA_DIR: '/srv/keys' }).dataDir, '/srv/keys');
  });
});

describe('parseSize', () => {
  it('reads bytes and binary units', () => {
    assert.equal(parseSize('1048576'), 1048576);
    assert.equal(parseSize('512kb'), 524288);
    assert.equal(parseSize('10MiB'), 10485760);
    assert.equal(parseSize('1.5 kb'), 1536);
    assert.equal(parseSize('1gb'), 1024 ** 3);
    assert.equal(parseSize('ten'), null);
    assert.equal(parseSize('5 tb'), null);
  });

  it('keeps the server timeouts within a minute, headers never longer than the request', () => {
    const d = loadConfig({});
    assert.equal(d.serverRequestTimeoutMs, 30_000);
    assert.equal(d.serverHeadersTimeoutMs, 10_000);
    assert.ok(d.serverHeadersTimeoutMs <= d.serverRequestTimeoutMs);
    const c = loadConfig({ MESSO_SERVER_REQUEST_TIMEOUT_MS: '5000', MESSO_SERVER_HEADERS_TIMEOUT_MS: '20000' });
    assert.equal(c.serverHeadersTimeoutMs, 5000, 'clamped to the request timeout');
    assert.match(problemsOf({ MESSO_SERVER_REQUEST_TIMEOUT_MS: '420000' })[0], /MESSO_SERVER_REQUEST_TIMEOUT_MS=420000: must be a whole number from 100 to 60000/);
  });

  it('reads the quotas and the metrics port; 0 turns a rate limit off', () => {
    const d = loadConfig({});
    assert.equal(d.metricsPort, null);
    assert.equal(d.maxWebhooksPerTenant, 100);
    assert.equal(d.maxCapturedBytesPerTenant, 512 * 1024 * 1024);
    const c = loadConfig({
      MESSO_API_REQUESTS_PER_MINUTE: '0', MESSO_AUTH_FAILURES_PER_MINUTE: '5', MESSO_ANONYMOUS_BINS_PER_HOUR: '2', MESSO_MAX_WEBHOOKS_PER_TENANT: '7',
      MESSO_MAX_DELIVERIES_PER_BATCH: '9', MESSO_MAX_BINS_PER_TENANT: '3', MESSO_MAX_CAPTURED_BYTES_PER_TENANT: '1mb', MESSO_METRICS_PORT: '9464',
      MESSO_MAX_CONNECTIONS: '10', MESSO_MAX_CONNECTIONS_PER_ADDRESS: '2',
    });
    assert.deepEqual(
      [c.apiRequestsPerMinute, c.authFailuresPerMinute, c.anonymousBinsPerHour, c.maxWebhooksPerTenant, c.maxDeliveriesPerBatch, c.maxBinsPerTenant, c.maxCapturedBytesPerTenant, c.metricsPort, c.maxConnections, c.maxConnectionsPerAddress],
      [0, 5, 2, 7, 9, 3, 1024 * 1024, 9464, 10, 2],
    );
    assert.match(problemsOf({ MESSO_MAX_WEBHOOKS_PER_TENANT: '0' })[0], /MESSO_MAX_WEBHOOKS_PER_TENANT/);
  });
});
