// The rule for source names. A name is printed unquoted in text alerts
// (`src_sources=a,b`), so it must not contain a space, a comma or a control
// character: a crafted list could otherwise split an alert or add a fake one.

const SOURCE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** The rule in words, for messages. */
export const SOURCE_NAME_RULE = "1-64 letters, digits, '.', '_' or '-', starting with a letter or digit";

export function isValidSourceName(name: string): boolean {
  return SOURCE_NAME.test(name);
}
