/**
 * The container files, checked without a Docker engine (there is none here, nor a registry):
 * compose.yaml parses and wires serve, worker and PostgreSQL; the Dockerfile has the shape the
 * README promises; and every command the image is given, in compose.yaml and in the README's
 * container section, is a real `messo` command with real options.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import type { Command } from 'commander';
import { parse } from 'yaml';
import { buildCli } from '../src/cli/index.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const read = (f: string) => readFileSync(join(ROOT, f), 'utf8');

interface Service { image?: string; build?: unknown; command?: string[]; environment?: Record<string, string>; depends_on?: Record<string, { condition: string }>; ports?: string[] }
const compose = parse(read('compose.yaml'), { merge: true }) as { services: Record<string, Service>; volumes: Record<string, unknown> };
const dockerfile = read('Dockerfile');
const readme = read('README.md');
const section = (() => {
  const start = readme.indexOf('## Container image');
  assert.ok(start >= 0, 'the README has a container section');
  const end = readme.indexOf('\n## ', start + 5);
  return readme.slice(start, end < 0 ? undefined : end);
})();

/** Throws unless `args` is a messo command line the CLI knows (command path and options). */
function assertMessoCommand(args: string[]): void {
  let cmd: Command = buildCli();
  let i = 0;
  while (i < args.length && !args[i].startsWith('-')) {
    const sub = cmd.commands.find((c) => c.name() === args[i]);
    if (!sub) break;
    cmd = sub;
    i++;
  }
  assert.notEqual(cmd.name(), 'messo', `${args.join(' ')}: not a messo command`);
  for (const a of args.slice(i)) {
    if (!a.startsWith('-')) continue;
    assert.ok(cmd.options.some((o) => o.long === a.split('=')[0] || o.short === a), `${args.join(' ')}: ${a} is not an option of ${cmd.name()}`);
  }
}

/** Splits a shell line into words, keeping "quoted words" whole. */
function words(line: string): string[] {
  return [...line.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]);
}

describe('compose.yaml', () => {
  it('has serve, worker and postgres, wired to one database', () => {
    assert.deepEqual(Object.keys(compose.services).sort(), ['postgres', 'serve', 'worker']);
    const { serve, worker, postgres } = compose.services;
    assert.match(postgres.image ?? '', /^postgres:\d+/);
    assert.equal(serve.build, '.');
    assert.equal(worker.image, serve.image, 'the worker runs the image serve builds');
    for (const s of [serve, worker]) {
      assert.match(s.environment?.MESSO_DATABASE_URL ?? '', /^postgres:\/\/[^@]+@postgres:5432\//);
      assert.ok(s.environment?.MESSO_ADMIN_TOKEN, 'the same admin token on every process');
    }
    assert.equal(serve.depends_on?.postgres.condition, 'service_healthy');
    assert.equal(worker.depends_on?.serve.condition, 'service_healthy', 'serve migrates first');
    assert.equal(worker.environment?.MESSO_WORKER_PORT, '9090', 'the image healthcheck needs it');
    assert.ok('pgdata' in compose.volumes);
  });

  it('gives the image only real messo commands, the ones the README shows', () => {
    for (const name of ['serve', 'worker']) {
      const command = compose.services[name].command!;
      assertMessoCommand(command);
      assert.ok(section.includes(`\`${command.join(' ')}\``), `the README shows ${command.join(' ')}`);
    }
  });
});

describe('Dockerfile', () => {
  const stages = [...dockerfile.matchAll(/^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/gim)].map((m) => ({ image: m[1], name: m[2] }));

  it('builds in one stage and runs in another, on Node.js 24', () => {
    assert.ok(stages.length >= 2, 'multi-stage');
    for (const s of stages) assert.match(s.image, /^node:24(\b|-)/);
    assert.match(dockerfile, /COPY --from=build/);
  });

  it('runs as a non-root user under tini, with a healthcheck on /healthz and a /data volume', () => {
    const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    const user = /^USER\s+(\S+)/m.exec(runtime)?.[1];
    assert.ok(user && user !== 'root' && user !== '0', `USER ${user}`);
    assert.match(runtime, /^ENTRYPOINT \["\/usr\/bin\/tini", "--", "node", "--max-semi-space-size=16", "\/app\/bin\/messo\.js"\]$/m);
    assert.match(runtime, /^HEALTHCHECK [^\n]*\\\n\s+CMD [^\n]*\/healthz/m);
    assert.match(runtime, /^VOLUME \["\/data"\]$/m);
    assert.match(runtime, /MESSO_DATABASE_URL=sqlite:\/data\//);
    assertMessoCommand(JSON.parse(/^CMD (\[.*\])$/m.exec(runtime)![1]) as string[]);
  });

  it('copies into the image everything the npm package ships', () => {
    const pkg = JSON.parse(read('package.json')) as { files: string[] };
    for (const f of pkg.files.filter((x) => !x.startsWith('!') && !x.endsWith('.md'))) {
      assert.match(dockerfile, new RegExp(`COPY --from=build[^\\n]* /app/${f.replace(/\/$/, '')} `), f);
    }
    for (const f of ['package.json', 'package-lock.json']) assert.ok(existsSync(join(ROOT, f)));
    assert.match(read('.dockerignore'), /^node_modules$/m);
  });
});

describe('the README container section', () => {
  it('runs only real messo commands through the image, and says what was not built', () => {
    const runs = section.split('\n').filter((l) => l.startsWith('docker run '));
    assert.ok(runs.length >= 2);
    for (const line of runs) {
      const w = words(line);
      // docker run [options with values…] <image> [messo command…]
      let i = 2;
      while (i < w.length && w[i].startsWith('-')) i += ['-d', '--rm', '-it'].includes(w[i]) ? 1 : 2;
      assert.equal(w[i], 'messo', `${line}: the image is messo`);
      if (i + 1 < w.length) assertMessoCommand(w.slice(i + 1));
    }
    assert.match(section, /docker build -t messo \./);
    assert.match(section, /\*\*Not built here\.\*\*/);
    assert.match(section, /has not been built/);
  });
});
