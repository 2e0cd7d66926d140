#!/usr/bin/env node
// Packs the better-sqlite3 addon built in node_modules as a "local prebuild" for the Node.js
// that runs this script (its ABI), in the layout prebuild-install looks for:
//   <dir>/better-sqlite3-v<version>-node-v<abi>-<platform>-<arch>.tar.gz
// An install with npm_config_better_sqlite3_local_prebuilds=<dir> then takes it instead of
// downloading one from GitHub (not reachable here) or compiling sqlite3 from source (3.5 min
// measured on this machine). Used by the package test and by .ci/run for Node 24.
//   node scripts/local-prebuild.js <dir> [path to better-sqlite3]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const [dir, moduleDir = 'node_modules/better-sqlite3'] = process.argv.slice(2);
if (!dir) {
  process.stderr.write('usage: node scripts/local-prebuild.js <dir> [better-sqlite3 dir]\n');
  process.exit(2);
}
const { version } = JSON.parse(readFileSync(join(moduleDir, 'package.json'), 'utf8'));
const addon = join(moduleDir, 'build', 'Release', 'better_sqlite3.node');
if (!existsSync(addon)) {
  process.stderr.write(`${addon} is missing: build better-sqlite3 first (npm rebuild better-sqlite3)\n`);
  process.exit(1);
}
mkdirSync(dir, { recursive: true });
const name = `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`;
execFileSync('tar', ['-czf', resolve(dir, name), '-C', moduleDir, 'build/Release/better_sqlite3.node']);
process.stdout.write(`${join(dir, name)}\n`);
