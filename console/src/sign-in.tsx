import { useState, type FormEvent } from 'react';
import { Api } from './api';
import type { ApiError } from './api';
import { ErrorMessage } from './components';
import { asApiError } from './use-resource';

/**
 * Sign-in with the edge's admin token (printed at first start, kept in <data-dir>/admin-token).
 * The token is checked against the admin API before the console opens.
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

/**
 * SLOT — identity-provider (OIDC) sign-in for administrators. Not implemented in this release:
 * the admin API accepts only the admin token today. When the edge offers an admin OIDC login,
 * this component renders its "Sign in with …" button; until then it renders nothing.
 */
function IdentityProviderSignIn() {
  return null;
}
