/*
 * Baseline for the benchmarks: the same job as repfilter's core, written plainly
 * in C. Frames classic little-endian pcap, follows Ethernet and 802.1Q/802.1ad
 * tags (or reads raw IPv4), checks the IPv4 header, and looks the source and
 * destination up in a sorted range table by binary search. Prints one line per
 * matching packet: "packet-number src dst" as numbers.
 *
 *   scan-c [-b] LIST CAPTURE|-
 *
 * LIST holds "a.b.c.d-e.f.g.h" lines, sorted and disjoint (bench/generate.js
 * writes it). -b puts an index of 65536 buckets, one per /16, in front of the
 * search.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK (4u << 20)
#define MAX_CAPLEN 262144u

static uint32_t *starts, *ends;
static size_t count;
static uint32_t *buckets; /* buckets[p]..buckets[p+1]: ranges that may hold prefix p */

static uint32_t parse_address(const char **text) {
  uint32_t value = 0;
  for (int part = 0; part < 4; part++) {
    value = value * 256 + (uint32_t)strtoul(*text, (char **)text, 10);
    if (part < 3) (*text)++;
  }
  return value;
}

static void load_list(const char *path) {
  FILE *file = fopen(path, "r");
  if (!file) { perror(path); exit(2); }
  size_t capacity = 1024;
  starts = malloc(capacity * 4);
  ends = malloc(capacity * 4);
  char line[128];
  while (fgets(line, sizeof line, file)) {
    if (line[0] < '0' || line[0] > '9') continue;
    if (count == capacity) {
      capacity *= 2;
      starts = realloc(starts, capacity * 4);
      ends = realloc(ends, capacity * 4);
    }
    const char *cursor = line;
    starts[count] = parse_address(&cursor);
    ends[count] = *cursor == '-' ? (cursor++, parse_address(&cursor)) : starts[count];
    count++;
  }
  fclose(file);
}

static void build_buckets(void) {
  buckets = malloc((65536 + 1) * 4);
  size_t range = 0;
  for (uint32_t prefix = 0; prefix <= 65536; prefix++) {
    /* First range that ends at or after the start of this /16. */
    uint64_t base = (uint64_t)prefix << 16;
    while (range < count && ends[range] < base) range++;
    buckets[prefix] = (uint32_t)range;
  }
}

static long search(uint32_t address, size_t low, size_t high) {
  /* Last range in [low, high) whose start is <= address. */
  while (low < high) {
    size_t middle = low + (high - low) / 2;
    if (starts[middle] <= address) low = middle + 1;
    else high = middle;
  }
  if (low == 0) return -1;
  low--;
  return ends[low] >= address && starts[low] <= address ? (long)low : -1;
}

static long lookup(uint32_t address) {
  if (!buckets) return search(address, 0, count);
  uint32_t prefix = address >> 16;
  size_t low = buckets[prefix];
  size_t high = buckets[prefix + 1] + 1;
  if (high > count) high = count;
  return search(address, low, high);
}

static uint32_t be16(const uint8_t *p) { return (uint32_t)p[0] << 8 | p[1]; }
static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static uint32_t le32(const uint8_t *p) { return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0]; }

int main(int argc, char **argv) {
  int use_buckets = argc > 1 && strcmp(argv[1], "-b") == 0;
  if (argc != 3 + use_buckets) {
    fprintf(stderr, "usage: scan-c [-b] LIST CAPTURE|-\n");
    return 2;
  }
  load_list(argv[1 + use_buckets]);
  if (use_buckets) build_buckets();
  const char *path = argv[2 + use_buckets];
  FILE *input = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
  if (!input) { perror(path); return 2; }
  static char out[1 << 16];
  setvbuf(stdout, out, _IOFBF, sizeof out);

  uint8_t *buffer = malloc(CHUNK + MAX_CAPLEN + 16);
  size_t filled = fread(buffer, 1, 24, input);
  if (filled != 24 || le32(buffer) != 0xa1b2c3d4) { fprintf(stderr, "not a little-endian pcap\n"); return 2; }
  uint32_t link_type = le32(buffer + 20) & 0xffff;
  size_t position = 0;
  filled = 0;
  uint64_t packet = 0, matches = 0;
  for (;;) {
    memmove(buffer, buffer + position, filled - position);
    filled -= position;
    position = 0;
    size_t got = fread(buffer + filled, 1, CHUNK, input);
    if (got == 0) break;
    filled += got;
    while (filled - position >= 16) {
      const uint8_t *record = buffer + position;
      uint32_t caplen = le32(record + 8);
      if (caplen > MAX_CAPLEN) { fprintf(stderr, "record %llu: bad caplen\n", (unsigned long long)packet + 1); return 2; }
      if (filled - position - 16 < caplen) break;
      const uint8_t *frame = record + 16;
      position += 16 + caplen;
      packet++;
      uint32_t offset = 0;
      if (link_type == 1) {
        if (caplen < 14) continue;
        uint32_t type = be16(frame + 12);
        offset = 14;
        while ((type == 0x8100 || type == 0x88a8) && offset + 4 <= caplen) {
          type = be16(frame + offset + 2);
          offset += 4;
        }
        if (type != 0x0800) continue;
      }
      if (caplen < offset + 20 || (frame[offset] >> 4) != 4 || (frame[offset] & 15) < 5) continue;
      uint32_t src = be32(frame + offset + 12), dst = be32(frame + offset + 16);
      if (lookup(src) >= 0 || lookup(dst) >= 0) {
        matches++;
        printf("%llu %u %u\n", (unsigned long long)packet, src, dst);
      }
    }
  }
  fprintf(stderr, "scan-c: %llu packets, %llu matches\n", (unsigned long long)packet, (unsigned long long)matches);
  return matches > 0 ? 0 : 1;
}
