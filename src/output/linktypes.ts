// Names of common LINKTYPE_* values, from the registry at tcpdump.org/linktypes.html,
// for messages about link types.

const NAMES: Record<number, string> = {
  0: "NULL",
  1: "ETHERNET",
  8: "SLIP",
  9: "PPP",
  10: "FDDI",
  12: "RAW",
  14: "RAW",
  50: "PPP_HDLC",
  101: "RAW",
  104: "C_HDLC",
  105: "IEEE802_11",
  107: "FRELAY",
  108: "LOOP",
  113: "LINUX_SLL",
  127: "IEEE802_11_RADIOTAP",
  129: "ARCNET_LINUX",
  192: "PPI",
  195: "IEEE802_15_4_WITHFCS",
  228: "IPV4",
  229: "IPV6",
  239: "NFLOG",
  276: "LINUX_SLL2",
};

/** Returns `number (NAME)` when the link type has a known name, else the number. */
export function describeLinkType(linkType: number): string {
  const name = NAMES[linkType];
  return name === undefined ? String(linkType) : `${linkType} (${name})`;
}
