#!/usr/bin/env -S node --max-semi-space-size=1
// Thin launcher: the command line lives in src/cli/main.ts (built into dist/).
//
// A 1 MiB young generation keeps V8 from growing its heap to tens of MB while an
// alert-heavy scan allocates labels; measured on a 4 GB capture with a 1M-range
// list, peak RSS is 80 MB with it and 85 MB without (see BENCHMARKS.md). Running
// `node bin/repfilter.js` directly skips this flag.

import { main } from "../dist/src/cli/main.js";

// Messages on a closed stderr, or output of `info` and friends on a closed stdout,
// are lost, but must not turn into a crash: grep and tcpdump ignore them too. The
// scan watches stdout itself and stops reading when it closes.
process.stderr.on("error", () => {});
process.stdout.on("error", () => {});

const status = await main(process.argv.slice(2), {
  // A getter, so that the stdin stream is created only if it is used: creating it
  // makes a pipe non-blocking, and the scan reads descriptor 0 directly.
  get stdin() {
    return process.stdin;
  },
  stdinFd: 0,
  stdoutFd: 1,
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  handleSignals: true,
});
// Exit once stdout has taken everything: a read abandoned after a signal would
// otherwise keep the process waiting for its pipe.
process.stdout.write("", () => process.exit(status));
