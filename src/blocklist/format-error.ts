// The error for a blocklist file that cannot be used, apart from format.ts so
// that the section modules can raise it without an import cycle.

/** A blocklist file that cannot be used. `code` names the problem for tests. */
export class BlocklistError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = "BlocklistError";
    this.code = code;
  }
}
