// Errors for a feed body that cannot be used at all. `code` names the kind:
// ERR_FEED_BODY (not a list: empty, HTML, binary, bad compression),
// ERR_FEED_TOO_LARGE (over the size limit), ERR_FEED_FORMAT (parsed but rejected).

export class FeedError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = "FeedError";
    this.code = code;
  }
}
