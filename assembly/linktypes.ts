// LINKTYPE_* values from the pcap link-type registry (tcpdump.org/linktypes.html).
// DLT_RAW is 12 on most systems and 14 on OpenBSD; files carry either.

export const LINKTYPE_NULL: u32 = 0;
export const LINKTYPE_ETHERNET: u32 = 1;
export const LINKTYPE_PPP: u32 = 9;
export const DLT_RAW_12: u32 = 12;
export const DLT_RAW_14: u32 = 14;
export const LINKTYPE_PPP_HDLC: u32 = 50;
export const LINKTYPE_RAW: u32 = 101;
export const LINKTYPE_C_HDLC: u32 = 104;
export const LINKTYPE_LOOP: u32 = 108;
export const LINKTYPE_LINUX_SLL: u32 = 113;
export const LINKTYPE_IPV4: u32 = 228;
export const LINKTYPE_NFLOG: u32 = 239;
export const LINKTYPE_LINUX_SLL2: u32 = 276;

/** Returns true for the link types `decodePacket` understands. */
export function isSupportedLinkType(linkType: u32): bool {
  switch (linkType) {
    case LINKTYPE_NULL:
    case LINKTYPE_ETHERNET:
    case LINKTYPE_PPP:
    case DLT_RAW_12:
    case DLT_RAW_14:
    case LINKTYPE_PPP_HDLC:
    case LINKTYPE_RAW:
    case LINKTYPE_C_HDLC:
    case LINKTYPE_LOOP:
    case LINKTYPE_LINUX_SLL:
    case LINKTYPE_IPV4:
    case LINKTYPE_NFLOG:
    case LINKTYPE_LINUX_SLL2:
      return true;
  }
  return false;
}
