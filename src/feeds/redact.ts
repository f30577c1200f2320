// Hiding credentials in feed URLs before a URL reaches the table, the log or an
// error message: the user information (https://user:pass@host/ becomes
// https://***@host/) and the values of query parameters whose names look like
// credentials (?key=abc becomes ?key=***).

/** Query parameter names that carry credentials: key, api_key, apikey, token, auth, secret, password, sig... */
const CREDENTIAL_PARAMETER = /key|token|auth|secret|pass|pwd|sig|session|credential/i;

/** Returns the URL with its user information and credential parameter values replaced by `***`. */
export function redactUrl(url: string): string {
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.exec(url);
  if (scheme === null) return url;
  const authorityStart = scheme[0].length;
  // A URL that does not parse may have a password with a '/' in it, so there
  // the user information may reach up to the query.
  let authorityEnd = url.slice(authorityStart).search(URL.canParse(url) ? /[/\\?#]/ : /[?#]/);
  authorityEnd = authorityEnd < 0 ? url.length : authorityStart + authorityEnd;
  const authority = url.slice(authorityStart, authorityEnd);
  const at = authority.lastIndexOf("@");
  const host = at >= 0 ? `***@${authority.slice(at + 1)}` : authority;

  let rest = url.slice(authorityEnd);
  const queryStart = rest.indexOf("?");
  if (queryStart >= 0) {
    const fragmentStart = rest.indexOf("#", queryStart);
    const queryEnd = fragmentStart < 0 ? rest.length : fragmentStart;
    const query = rest
      .slice(queryStart + 1, queryEnd)
      .split("&")
      .map((parameter) => {
        const equals = parameter.indexOf("=");
        if (equals < 0 || !CREDENTIAL_PARAMETER.test(decodeName(parameter.slice(0, equals)))) return parameter;
        return `${parameter.slice(0, equals)}=***`;
      })
      .join("&");
    rest = `${rest.slice(0, queryStart + 1)}${query}${rest.slice(queryEnd)}`;
  }
  return `${scheme[0]}${host}${rest}`;
}

/** Redacts every http or https URL in a free-form message, such as a network library's error text. */
export function redactUrlsInText(text: string): string {
  return text.replace(/https?:\/\/[^\s"'<>]+/gi, (url) => redactUrl(url));
}

function decodeName(name: string): string {
  try {
    return decodeURIComponent(name.replace(/\+/g, " "));
  } catch {
    return name;
  }
}
