#!/usr/bin/env node
// Entry point of the `messo` command; the CLI itself lives in src/cli (compiled to dist/).
import { main } from '../dist/src/cli/index.js';

main(process.argv).catch((err) => {
  process.stderr.write(`messo: ${err?.message ?? err}\n`);
  process.exit(1);
});
