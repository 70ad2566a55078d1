#!/usr/bin/env node
import { processIo } from './cli/io.js';
import { runCli } from './cli/main.js';

// the command itself lives in src/cli/main.ts, so tests run it in their own process with streams of their own
runCli(process.argv.slice(2), processIo()).then((code) => {
  process.exitCode = code;
});
