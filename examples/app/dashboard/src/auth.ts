/**
 * The bearer token. `kflow paper --ui` prints the dashboard as `http://host:port/#token=<token>`: the
 * token is read from the fragment once (fragments never reach the server or its logs), kept in this
 * tab's sessionStorage and removed from the address bar, so it is neither bookmarked nor shared by a
 * copied URL.
 */
const KEY = 'kflow.token';

export function takeToken(): string | null {
  const match = /(?:^#|[#&/?])token=([^&]+)/.exec(location.hash);
  if (match?.[1] !== undefined) {
    const token = decodeURIComponent(match[1]);
    try {
      sessionStorage.setItem(KEY, token);
    } catch {
      // Storage disabled: the token lives for this page only.
    }
    history.replaceState(null, '', `${location.pathname}${location.search}#/markets`);
    return token;
  }
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
}

export function forgetToken(): void {
  try {
    sessionStorage.removeItem(KEY);
  } catch {
    // nothing stored
  }
}
