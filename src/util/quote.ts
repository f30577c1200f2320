// Quoting input text in messages, cut to a length a terminal line can show.

/** Characters of a quoted input line shown in a message; the rest is counted. */
export const QUOTED_LINE_LENGTH = 120;

/**
 * Returns `text` as a JSON string literal, cut to QUOTED_LINE_LENGTH characters
 * with the count of the rest, so that a megabyte-long line cannot flood stderr.
 */
export function quoteLine(text: string): string {
  if (text.length <= QUOTED_LINE_LENGTH) return JSON.stringify(text);
  const rest = text.length - QUOTED_LINE_LENGTH;
  return `${JSON.stringify(text.slice(0, QUOTED_LINE_LENGTH))}... (${rest} more character${rest === 1 ? "" : "s"})`;
}
