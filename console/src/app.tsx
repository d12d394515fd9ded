import { useEffect, useMemo, useState } from 'react';
import { Api } from './api';
import { Link } from './components';
import { usePath } from './router';
import {
  clearToken,
  loadToken,
  loadUser,
  saveToken,
  takeSignInFromFragment,
  type SignedInUser,
} from './session';
import { SignIn } from './sign-in';
import { ApiContext } from './use-resource';
import { ActivityPage } from './pages/activity';
import { ApplicationsPage } from './pages/applications';
import { AuditLogPage } from './pages/audit-log';
import { ConnectorsPage } from './pages/connectors';
import { GroupsPage } from './pages/groups';
import { ImportStatusPage } from './pages/import-status';
import { OverviewPage } from './pages/overview';
import { PoliciesPage } from './pages/policies';
import { TrafficPage } from './pages/traffic';

const PAGES = [
  { path: '/', title: 'Overview', page: OverviewPage },
  { path: '/groups', title: 'Groups & keys', page: GroupsPage },
  { path: '/connectors', title: 'Connectors', page: ConnectorsPage },
  { path: '/traffic', title: 'Virtual servers & pools', page: TrafficPage },
  { path: '/applications', title: 'Applications', page: ApplicationsPage },
  { path: '/policies', title: 'Access policies', page: PoliciesPage },
  { path: '/activity', title: 'User activity', page: ActivityPage },
  { path: '/import', title: 'Configuration import', page: ImportStatusPage },
  { path: '/audit', title: 'Audit log', page: AuditLogPage },
] as const;

/** The console: sign-in until there is a token, then navigation and one page at a time. */
export function App() {
  // An identity-provider sign-in comes back with its token in the fragment; take it first.
  const [token, setToken] = useState(() => takeSignInFromFragment() ?? loadToken());
  const [notice, setNotice] = useState<string | undefined>();
  const api = useMemo(() => {
    if (!token) return undefined;
    const onUnauthorized = (): void => {
      const signedIn = loadUser();
      clearToken();
      setToken(undefined);
      setNotice(
        signedIn
          ? `The sign-in of ${signedIn.user} has expired or is no longer accepted. Sign in again.`
          : 'The edge no longer accepts this admin token (revoked or expired). Sign in again.',
      );
    };
    return new Api(token, { onUnauthorized });
  }, [token]);
  if (!api) {
    return (
      <SignIn
        notice={notice}
        onSignedIn={(t) => {
          saveToken(t);
          setNotice(undefined);
          setToken(t);
        }}
      />
    );
  }
  const signOut = (): void => {
    clearToken();
    setToken(undefined);
  };
  return (
    <ApiContext.Provider value={api}>
      <Shell onSignOut={signOut} user={loadUser()} />
    </ApiContext.Provider>
  );
}

function Shell({ onSignOut, user }: { onSignOut: () => void; user: SignedInUser | undefined }) {
  const path = usePath();
  const current = PAGES.find((p) => p.path === path);
  useEffect(() => {
    document.title = `${current?.title ?? 'Not found'} · Postern console`;
    // Move focus to the new page's heading so keyboard and screen-reader users follow along.
    document.querySelector<HTMLElement>('main h1')?.focus({ preventScroll: true });
  }, [current]);
  const Page = current?.page;
  return (
    <div className="shell">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <span className="brand">Postern</span>
        {user && (
          <span className="signed-in-as">
            Signed in as {user.user} ({user.role})
          </span>
        )}
        <button type="button" className="link-button" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      <nav aria-label="Console sections" className="sidebar">
        <ul>
          {PAGES.map((p) => (
            <li key={p.path}>
              <Link to={p.path} current={p.path === path}>
                {p.title}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" className="content">
        {Page ? (
          <Page />
        ) : (
          <>
            <h1 tabIndex={-1}>Not found</h1>
            <p>
              There is no console page at this address. <Link to="/">Go to the overview.</Link>
            </p>
          </>
        )}
      </main>
    </div>
  );
}
