// The TypeScript mirror of the core's numbers must match the compiled module.

import assert from "node:assert/strict";
import { it } from "node:test";
import * as abi from "../src/core/abi.js";
import { instantiateCore } from "../src/core/wasm.js";

it("abi constants match the core's exported globals", () => {
  const core = instantiateCore() as unknown as Record<string, WebAssembly.Global | undefined>;
  const value = (name: string): number => {
    const global = core[name];
    if (!(global instanceof WebAssembly.Global)) assert.fail(`core does not export ${name}`);
    return global.value as number;
  };
  for (const [name, expected] of Object.entries(abi)) {
    if (typeof expected === "number") assert.equal(value(name), expected, name);
  }
  const counterNames: Record<string, string> = {
    packets: "C_PACKETS",
    ipv4: "C_IPV4",
    alerts: "C_ALERTS",
    suppressed: "C_SUPPRESSED",
    skipLinkType: "C_SKIP_LINKTYPE",
    skipNotIPv4: "C_SKIP_NOT_IPV4",
    skipTruncatedLink: "C_SKIP_TRUNCATED_LINK",
    skipBadIPVersion: "C_SKIP_BAD_IP_VERSION",
    skipBadIHL: "C_SKIP_BAD_IHL",
    skipIPTruncated: "C_SKIP_IP_TRUNCATED",
    skipBadIPLength: "C_SKIP_BAD_IP_LEN",
    caplenAboveLen: "C_CAPLEN_ABOVE_LEN",
    caplenAboveSnaplen: "C_CAPLEN_ABOVE_SNAPLEN",
    dedupEvictions: "C_DEDUP_EVICTIONS",
    capturedBytes: "C_CAPTURED_BYTES",
    ipOptionsCut: "C_IP_OPTIONS_CUT",
    skipHeaderLimit: "C_SKIP_HEADER_LIMIT",
    tunnelDepthLimit: "C_TUNNEL_DEPTH_LIMIT",
    innerIPv4: "C_INNER_IPV4",
    dnsResponses: "C_DNS_RESPONSES",
    dnsTruncated: "C_DNS_TRUNCATED",
    dnsBadPointer: "C_DNS_BAD_POINTER",
    dnsBadLabel: "C_DNS_BAD_LABEL",
    dnsNameTooLong: "C_DNS_NAME_TOO_LONG",
    dnsUnsupported: "C_DNS_UNSUPPORTED",
    dnsAnswersCapped: "C_DNS_ANSWERS_CAPPED",
    dnsTcpPartial: "C_DNS_TCP_PARTIAL",
    namesDns: "C_NAMES_DNS",
    namesSni: "C_NAMES_SNI",
    namesHttp: "C_NAMES_HTTP",
    namesEvicted: "C_NAMES_EVICTED",
    namesReplaced: "C_NAMES_REPLACED",
    namesRejected: "C_NAMES_REJECTED",
    namesRealerts: "C_NAMES_REALERTS",
    tlsClientHellos: "C_TLS_CLIENT_HELLOS",
    tlsClientHelloSplit: "C_TLS_CLIENTHELLO_SPLIT",
    tlsClientHelloIncomplete: "C_TLS_CLIENTHELLO_INCOMPLETE",
    tlsNoSni: "C_TLS_NO_SNI",
    tlsMalformed: "C_TLS_MALFORMED",
    tlsNotTls443: "C_TLS_NOT_TLS_443",
    httpRequests: "C_HTTP_REQUESTS",
    httpNoHost: "C_HTTP_NO_HOST",
  };
  for (const [name, index] of Object.entries(abi.Counter)) {
    assert.equal(value(counterNames[name]!), index, name);
  }
  assert.equal(Object.keys(counterNames).length, Object.keys(abi.Counter).length);
});
