// Summary lines about host names: what was read, what was skipped and why, and
// what the bounded tables dropped. Printed only when the capture had any.

import { Counter } from "../core/abi.js";
import { plural } from "./summary.js";

/** Names skipped by reason, as the summary names them. */
const NAME_SKIPS: ReadonlyArray<readonly [string, number]> = [
  ["dns_truncated", Counter.dnsTruncated],
  ["dns_bad_pointer", Counter.dnsBadPointer],
  ["dns_bad_label", Counter.dnsBadLabel],
  ["dns_name_too_long", Counter.dnsNameTooLong],
  ["dns_unsupported", Counter.dnsUnsupported],
  ["tls_malformed", Counter.tlsMalformed],
  ["tls_no_sni", Counter.tlsNoSni],
  ["tls_clienthello_incomplete", Counter.tlsClientHelloIncomplete],
  ["not_tls_on_443", Counter.tlsNotTls443],
  ["http_no_host", Counter.httpNoHost],
  ["name_rejected", Counter.namesRejected],
];

/** Events worth knowing that lose nothing or only what a bound allows. */
const NAME_NOTES: ReadonlyArray<readonly [string, number]> = [
  ["tls_clienthello_split", Counter.tlsClientHelloSplit],
  ["dns_answers_capped", Counter.dnsAnswersCapped],
  ["dns_tcp_partial", Counter.dnsTcpPartial],
  ["names_evicted", Counter.namesEvicted],
  ["names_replaced", Counter.namesReplaced],
  ["names_realerts", Counter.namesRealerts],
];

/** Returns the summary lines about host names, or none when nothing was read. */
export function namesSummaryLines(c: Float64Array): string[] {
  const responses = c[Counter.dnsResponses]!;
  const hellos = c[Counter.tlsClientHellos]!;
  const requests = c[Counter.httpRequests]!;
  const recorded = c[Counter.namesDns]! + c[Counter.namesSni]! + c[Counter.namesHttp]!;
  const lines: string[] = [];
  if (responses + hellos + requests + recorded > 0) {
    lines.push(
      `names: ${plural(responses, "DNS response")}, ${plural(hellos, "TLS ClientHello")}, ${plural(requests, "HTTP request")}; ` +
        `recorded ${c[Counter.namesDns]} from DNS, ${c[Counter.namesSni]} from SNI, ${c[Counter.namesHttp]} from HTTP Host`,
    );
  }
  const skips = listed(NAME_SKIPS, c);
  if (skips.length > 0) lines.push(`names skipped: ${skips.join(", ")}`);
  const notes = listed(NAME_NOTES, c);
  if (notes.length > 0) lines.push(`names noted: ${notes.join(", ")}`);
  return lines;
}

function listed(counters: ReadonlyArray<readonly [string, number]>, c: Float64Array): string[] {
  return counters.filter(([, index]) => c[index]! > 0).map(([name, index]) => `${name} ${c[index]}`);
}
