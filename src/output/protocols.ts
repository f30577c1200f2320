// IP protocol numbers (IANA "Assigned Internet Protocol Numbers") named the way
// Suricata's EVE output names them.

const NAMES: Record<number, string> = {
  1: "ICMP",
  2: "IGMP",
  4: "IPIP",
  6: "TCP",
  17: "UDP",
  41: "IPv6",
  47: "GRE",
  50: "ESP",
  51: "AH",
  58: "IPv6-ICMP",
  89: "OSPF",
  103: "PIM",
  112: "VRRP",
  132: "SCTP",
  136: "UDPLite",
};

/** Returns the protocol's name, or its number as text when it has no common name. */
export function protocolName(proto: number): string {
  return NAMES[proto] ?? String(proto);
}
