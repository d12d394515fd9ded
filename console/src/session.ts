// The admin token lives in sessionStorage: it survives a reload but not closing the tab, and
// is never written anywhere else.

const KEY = 'postern.adminToken';

/** The signed-in admin token, if any. */
export function loadToken(): string | undefined {
  try {
    return sessionStorage.getItem(KEY) ?? undefined;
  } catch {
    return undefined;
  }
}

/** Keeps the token for this tab. */
export function saveToken(token: string): void {
  sessionStorage.setItem(KEY, token);
}

/** Forgets the token (sign out). */
export function clearToken(): void {
  sessionStorage.removeItem(KEY);
}
