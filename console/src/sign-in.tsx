import { useEffect, useState, type FormEvent } from 'react';
import { Api } from './api';
import type { ApiError } from './api';
import { ErrorMessage } from './components';
import { asApiError } from './use-resource';

/**
 * Sign-in with the edge's admin token (printed at first start, kept in <data-dir>/admin-token),
 * or with the identity provider when the edge offers it. A token is checked against the admin
 * API before the console opens.
 */
export function SignIn({
  onSignedIn,
  notice,
}: {
  onSignedIn: (token: string) => void;
  notice?: string | undefined;
}) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<ApiError | undefined>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await new Api(token.trim()).request('GET', '/connector-groups');
      onSignedIn(token.trim());
    } catch (err) {
      setError(asApiError(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main className="sign-in" id="main">
      <h1>Postern console</h1>
      {notice && (
        <p className="error" role="alert">
          {notice}
        </p>
      )}
      <form onSubmit={(e) => void submit(e)} aria-describedby="token-help">
        <label htmlFor="admin-token">Admin token</label>
        <input
          id="admin-token"
          name="admin-token"
          type="password"
          autoComplete="current-password"
          required
          value={token}
          onChange={(e) => setToken(e.target.value)}
        />
        <p id="token-help" className="hint">
          The edge writes it to <code>admin-token</code> in its data directory. It is kept only for
          this browser tab.
        </p>
        <button type="submit" disabled={busy || token.trim() === ''}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        <ErrorMessage error={error} title="Sign-in failed:" />
      </form>
      <IdentityProviderSignIn />
    </main>
  );
}

/** Where the edge says whether administrators may sign in with an identity provider. */
const SIGN_IN_OPTIONS = '/.postern/admin/sign-in';

/**
 * "Sign in with <provider>" when the edge offers identity-provider sign-in for administrators
 * (`--admin-identity-provider`); renders nothing otherwise. The link leaves the console for the
 * provider's login; the edge returns to the console with a short-lived token for this tab.
 */
function IdentityProviderSignIn() {
  const [provider, setProvider] = useState<string | undefined>();
  useEffect(() => {
    let live = true;
    fetch(SIGN_IN_OPTIONS, { headers: { accept: 'application/json' } })
      .then((res) => (res.ok ? (res.json() as Promise<{ identity_provider?: unknown }>) : {}))
      .then((body) => {
        const name = (body as { identity_provider?: unknown }).identity_provider;
        if (live && typeof name === 'string' && name !== '') setProvider(name);
      })
      // An older edge without the page, or one that is down: the token form still works.
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, []);
  if (provider === undefined) return null;
  return (
    <div className="idp-sign-in">
      <p className="hint">Or, as an administrator with an account at {provider}:</p>
      <a className="button" href="/.postern/admin/login">
        Sign in with {provider}
      </a>
    </div>
  );
}
