#!/usr/bin/env node
// Thin launcher: the command line lives in src/cli/main.ts (built into dist/).

import { main } from "../dist/src/cli/main.js";

const status = await main(process.argv.slice(2), {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  handleSignals: true,
});
process.exitCode = status;
