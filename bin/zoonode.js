#!/usr/bin/env node
// zoonode command line: see `zoonode --help`. Runs the compiled server from dist/.
import { main } from '../dist/src/main.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // Threads that linger on a shared listening fd are unref'd; this is a backstop.
    setTimeout(() => process.exit(code), 3000).unref();
  },
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
