// Command-line entry point. `main` takes its streams and returns the exit status,
// so tests can run it in-process as well as through bin/repfilter.js.

import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { DEFAULT_HOME_NET, HomeNet, HomeNetError } from "../output/direction.js";
import { runScan, type ScanIO } from "./scan.js";
import { DEFAULT_NAMES_TABLE_ENTRIES, MAX_NAMES_TABLE_ENTRIES } from "../core/scanner.js";
import { DEFAULT_SCHEDULE } from "../update/schedule.js";
import { VERSION } from "../version.js";

const SCAN_HELP_AFTER = `
Alert lines go to stdout, one per packet whose IPv4 source or destination is in
the blocklist; diagnostics and the summary go to stderr.

Inputs: pcap and pcapng, each plain or gzip-compressed, told apart by their
first bytes. Link types: Ethernet (with 802.1Q/802.1ad tags, LLC/SNAP, PPPoE
and MPLS), raw IPv4, BSD loopback, Linux cooked (SLL, SLL2), PPP, PPP in HDLC
framing, Cisco HDLC and NFLOG. IPv4 inside IP-in-IP, GRE and VXLAN (UDP 4789)
is checked too; such alerts carry layer=N, the tunnel depth.

Each alert names, per matching side, the narrowest entry the sources list
(src_range=), the sources that list the address now (src_sources=), and the
first day one of them was seen listing it (src_listed_since=, when the list
was built by \`repfilter update\`). dir= is the direction relative to
--home-net.

Names: DNS responses (A records, CNAME chains), TLS server names (SNI) and
HTTP/1.x Host headers in the capture are remembered per client and server
address. An alert lists the names its client used for the listed address:
names=NAME(SOURCES),... in text, "hostnames" and "hostname_sources" in JSON.

Blocklist lookup order: --blocklist, then $REPFILTER_BLOCKLIST, then
$XDG_DATA_HOME/repfilter/blocklist.bin (default ~/.local/share/repfilter/blocklist.bin).

Exit status: 0 if an alert was printed, 1 if none, 2 on an error, 130 or 143
when SIGINT or SIGTERM stopped the run.

Examples:
  tcpdump -U -i eth0 -w - | repfilter
  repfilter --format json capture.pcap > alerts.json
  repfilter --home-net 198.51.100.0/24 --write-pcap evidence.pcap capture.pcapng
  repfilter compile -o list.bin my-list.txt
  repfilter check 203.0.113.7`;

const COMPILE_HELP_AFTER = `
Invalid lines are skipped and reported with their line numbers. So are the
entries that the safety policy of \`repfilter update\` rejects: 0.0.0.0/0, any
entry that needs a prefix shorter than /8, and any entry that overlaps
0.0.0.0/8, 10.0.0.0/8, 100.64.0.0/10, 127.0.0.0/8, 169.254.0.0/16,
172.16.0.0/12, 192.168.0.0/16, 224.0.0.0/4 or 240.0.0.0/4. When the entries of
all files together cover a block shorter than /8, nothing is written.
--no-policy turns these checks off.

Exit status: 0 when the list was written, 2 on an error.`;

const CHECK_HELP_AFTER = `
Prints one row per source that lists each address: the entry the source lists
that contains it, and the days it was first and last seen (- when the list has
no dates, as lists from \`repfilter compile\` do).

An invalid or IPv6 address is reported on stderr, and the others are still
looked up.

Exit status, as for grep: 2 on an error (an invalid or IPv6 address, a missing
or invalid blocklist), even when another address is listed; otherwise 0 if any
address is listed and 1 if none is.`;

const UPDATE_HELP_AFTER = `
The per-feed table goes to stdout; the log goes to stderr.

Exit status: 0 when the list was written and every enabled feed was downloaded or
confirmed unchanged, 1 when some downloads failed (those feeds came from their
last good copy or are missing; the list was written, or left as it was when it
already held those copies), 2 when nothing was written: no feed is enabled or none gave usable
data, the merged list covers more than policy.maxListedAddresses, the config or
an option is invalid, or the list cannot be written. With --daemon: 0 after
SIGTERM or SIGINT, 2 for an invalid config, option or schedule.`;

export async function main(argv: string[], io: ScanIO): Promise<number> {
  let status = 0;
  const program = new Command();
  program
    // Scan options such as --blocklist and --allow have namesakes in subcommands;
    // after a subcommand's name they belong to the subcommand.
    .enablePositionalOptions()
    .name("repfilter")
    .usage("[options] [FILE|-]...")
    .description("Print an alert for every packet in a pcap or pcapng capture whose IPv4 source or destination is blocklisted.")
    .argument("[FILE...]", "capture files to read (pcap or pcapng, optionally gzipped); none or - reads stdin")
    .option("-b, --blocklist <path>", "blocklist file built by `repfilter compile` or `repfilter update`")
    .addOption(new Option("-f, --format <format>", "alert line format").choices(["text", "json"]).default("text"))
    .option(
      "--dedup <seconds>",
      "suppress repeat alerts for the same source and destination pair for this many seconds of capture time; 0 prints every packet",
      parseSeconds,
      60,
    )
    .option(
      "--home-net <cidrs>",
      "your network as comma-separated addresses, CIDR blocks or ranges, which sets each alert's direction (default: the RFC 1918 blocks, 100.64.0.0/10 and 169.254.0.0/16)",
      parseHomeNet,
    )
    .option("--allow <file>", "text list of listed addresses, CIDR blocks or ranges that must not alert; repeatable", collect)
    .option(
      "--write-pcap <file>",
      "write every matched packet, repeats included, to this capture file (pcap, or pcapng for mixed link types); - writes pcapng to stdout in place of the alert lines",
    )
    .option(
      "--names-table <entries>",
      `client and server pairs whose host names are remembered (about 1 KiB each); 0 turns names off (default: ${DEFAULT_NAMES_TABLE_ENTRIES})`,
      parseNamesTableEntries,
    )
    .option("-q, --quiet", "do not print the summary or progress on stderr")
    .option("--no-progress", "do not show the progress line on a terminal")
    .version(VERSION, "-V, --version", "print the version and exit")
    .helpOption("-h, --help", "show this help and exit")
    .addHelpText("after", SCAN_HELP_AFTER)
    .showHelpAfterError("(run repfilter --help for usage)")
    .action(async (files: string[], options: ScanCommandOptions) => {
      status = await runScan(
        files,
        {
          ...(options.blocklist !== undefined ? { blocklist: options.blocklist } : {}),
          format: options.format,
          dedupSeconds: options.dedup,
          ...(options.namesTable !== undefined ? { namesTableEntries: options.namesTable } : {}),
          quiet: options.quiet === true,
          progress: options.progress,
          homeNet: options.homeNet ?? HomeNet.parse(DEFAULT_HOME_NET),
          allow: options.allow ?? [],
          ...(options.writePcap !== undefined ? { writePcap: options.writePcap } : {}),
        },
        io,
      );
    });

  program
    .command("compile")
    .usage("[options] -o PATH FILE...")
    .description("Build a blocklist file from text lists: one IPv4 address, CIDR block or range (a-b) per line, # and ; comments.")
    .argument("<FILE...>", "text lists to merge, each one named source; - reads stdin")
    .requiredOption("-o, --output <path>", "blocklist file to write (replaced atomically)")
    .option("-n, --name <name>", "source name for the next FILE, repeatable (default: the file name without extension)", collect)
    .option("--no-policy", "keep entries the safety policy rejects: 0.0.0.0/0, prefixes shorter than /8, and private, loopback, link-local, multicast and other reserved ranges")
    .helpOption("-h, --help", "show this help and exit")
    .addHelpText("after", COMPILE_HELP_AFTER)
    .action(async (files: string[], options: { output: string; name?: string[]; policy: boolean }) => {
      // Loaded on demand, like check, info and update: a scan does not need it.
      const { runCompile } = await import("./compile.js");
      status = await runCompile(files, { output: options.output, names: options.name ?? [], policy: options.policy }, io);
    });

  program
    .command("check")
    .usage("[options] IP...")
    .description("Print the sources that list each IPv4 address, with the entries they list and when each was first and last seen.")
    .argument("<IP...>", "IPv4 addresses to look up")
    .option("-b, --blocklist <path>", "blocklist file (default: as for the scan)")
    .addOption(new Option("-f, --format <format>", "output format").choices(["text", "json"]).default("text"))
    .helpOption("-h, --help", "show this help and exit")
    .addHelpText("after", CHECK_HELP_AFTER)
    .action(async (addresses: string[], options: { blocklist?: string; format: "text" | "json" }) => {
      // Loaded on demand, like update, to keep the scan's start-up small.
      const { runCheck } = await import("./check.js");
      status = await runCheck(addresses, options, io);
    });

  program
    .command("info")
    .usage("[options] [LIST]")
    .description("Print a blocklist's build time, format version, sources, entry, range and address counts, and first and last seen dates.")
    .argument("[LIST]", "blocklist file (default: as for the scan)")
    .addOption(new Option("-f, --format <format>", "output format").choices(["text", "json"]).default("text"))
    .helpOption("-h, --help", "show this help and exit")
    .action(async (path: string | undefined, options: { format: "text" | "json" }) => {
      const { runInfo } = await import("./info.js");
      status = await runInfo(path, options, io);
    });

  program
    .command("update")
    .usage("[options]")
    .description("Download the configured threat feeds, rebuild the blocklist and print a table of the feeds.")
    .option("-c, --config <file>", "feeds config to apply over the bundled default (default: $XDG_CONFIG_HOME/repfilter/feeds.json if it exists)")
    .option("-o, --output <path>", "blocklist file to replace (default: $REPFILTER_BLOCKLIST, else $XDG_DATA_HOME/repfilter/blocklist.bin)")
    .option("--state-dir <dir>", "cache of last good downloads and their validators (default: $XDG_STATE_HOME/repfilter)")
    .option("--allow <file>", "text list of addresses, CIDR blocks or ranges that must never alert, repeatable", collect)
    .option("--daemon", "keep running and update on a schedule until SIGTERM")
    .option("--schedule <cron>", `cron expression for --daemon, 5 fields or 6 with seconds first (default: "${DEFAULT_SCHEDULE}", daily at 04:17)`)
    .helpOption("-h, --help", "show this help and exit")
    .addHelpText("after", UPDATE_HELP_AFTER)
    .action(async (options: { config?: string; output?: string; stateDir?: string; allow?: string[]; daemon?: boolean; schedule?: string }, command: Command) => {
      if (options.schedule !== undefined && options.daemon !== true) {
        command.error("error: --schedule needs --daemon; add --daemon to update on that schedule, or drop --schedule for a single update", { exitCode: 2 });
      }
      // Loaded on demand: undici and node-cron would slow down the start of every scan.
      const { runUpdateCommand } = await import("./update.js");
      status = await runUpdateCommand({ ...options, allow: options.allow ?? [], daemon: options.daemon === true }, io);
    });

  // `repfilter help` and `repfilter help compile` print usage, as --help does.
  // Commander's own help command would print the scan's usage for an unknown name.
  program
    .command("help")
    .usage("[COMMAND]")
    .description("Print the usage of the scan, or of a subcommand.")
    .argument("[COMMAND]", "subcommand to describe: compile, check, info or update")
    .helpOption("-h, --help", "show this help and exit")
    .action((name: string | undefined) => {
      const target = name === undefined ? program : program.commands.find((command) => command.name() === name);
      if (target === undefined) {
        program.error(`error: unknown command '${name}'; the subcommands are compile, check, info and update`);
        return;
      }
      target.help();
    });

  for (const command of [program, ...program.commands]) {
    command.exitOverride();
    command.configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      outputError: (text, write) => write(`repfilter: ${text}`),
    });
  }

  try {
    await program.parseAsync(argv, { from: "user" });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    if (error.code === "commander.helpDisplayed" || error.code === "commander.version" || error.code === "commander.help") return 0;
    return 2;
  }
  return status;
}

interface ScanCommandOptions {
  blocklist?: string;
  format: "text" | "json";
  dedup: number;
  namesTable?: number;
  quiet?: boolean;
  progress: boolean;
  homeNet?: HomeNet;
  allow?: string[];
  writePcap?: string;
}

function parseHomeNet(value: string): HomeNet {
  try {
    return HomeNet.parse(value);
  } catch (error) {
    if (error instanceof HomeNetError) throw new InvalidArgumentError(error.message);
    throw error;
  }
}

function parseSeconds(value: string): number {
  // Decimal only: Number() would also take "0x10", "1e3" and " 5 ".
  if (!/^[0-9]+(\.[0-9]+)?$/.test(value)) throw new InvalidArgumentError("expected a number of seconds, 0 or more, such as 60 or 0.5");
  return Number(value);
}

function parseNamesTableEntries(value: string): number {
  const entries = Number(value);
  if (!/^\d+$/.test(value.trim()) || entries > MAX_NAMES_TABLE_ENTRIES) {
    throw new InvalidArgumentError(`expected a whole number of entries from 0 to ${MAX_NAMES_TABLE_ENTRIES}, got "${value}"`);
  }
  return entries;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}
