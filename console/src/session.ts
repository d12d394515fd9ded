// The admin token, or the short-lived token of an identity-provider sign-in, lives in
// sessionStorage: it survives a reload but not closing the tab, and is never written anywhere else.

const KEY = 'postern.adminToken';

/** The signed-in admin token, if any. */
export function loadToken(): string | undefined {
  try {
    return sessionStorage.getItem(KEY) ?? undefined;
  } catch {
    return undefined;
  }
}

/** Keeps the token for this tab (an admin token: no user is shown). */
export function saveToken(token: string): void {
  sessionStorage.setItem(KEY, token);
  sessionStorage.removeItem(USER_KEY);
}

/** Forgets the token and who it names (sign out). */
export function clearToken(): void {
  sessionStorage.removeItem(KEY);
  sessionStorage.removeItem(USER_KEY);
}

const USER_KEY = 'postern.adminUser';

/** Who an identity-provider sign-in names, shown in the top bar. */
export interface SignedInUser {
  readonly user: string;
  readonly role: string;
}

/** The user of an identity-provider sign-in; undefined for an admin token. */
export function loadUser(): SignedInUser | undefined {
  try {
    const raw = sessionStorage.getItem(USER_KEY);
    return raw ? (JSON.parse(raw) as SignedInUser) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Takes the token an identity-provider sign-in hands over in the URL fragment
 * (`#admin_token=…&user=…&role=…`; fragments never reach a server), keeps it for this tab and
 * removes it from the address bar and history. Undefined when the fragment holds none.
 */
export function takeSignInFromFragment(): string | undefined {
  const fragment = new URLSearchParams(window.location.hash.slice(1));
  const token = fragment.get('admin_token');
  if (!token) return undefined;
  window.history.replaceState(null, '', window.location.pathname + window.location.search);
  saveToken(token);
  const user: SignedInUser = { user: fragment.get('user') ?? '', role: fragment.get('role') ?? '' };
  sessionStorage.setItem(USER_KEY, JSON.stringify(user));
  return token;
}
