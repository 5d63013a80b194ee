import { useEffect, useState } from 'react';
import { ApiRequestError, apiPost, errorText, getToken, setToken } from './api';
import { forgetToken } from './auth';
import { TopBar } from './components/topBar';
import { Notice } from './components/ui';
import { store } from './liveStore';
import { href, useRoute, type ViewName } from './router';
import { ActionsView } from './views/actionsView';
import { MarketView } from './views/marketView';
import { MarketsView } from './views/marketsView';
import { ModelsView } from './views/modelsView';
import { PortfolioView } from './views/portfolioView';
import { SessionsView } from './views/sessionsView';
import { TrainingView } from './views/trainingView';

const NAV: readonly { readonly view: Exclude<ViewName, 'market'>; readonly label: string }[] = [
  { view: 'markets', label: 'Markets' },
  { view: 'actions', label: 'Actions' },
  { view: 'portfolio', label: 'Portfolio' },
  { view: 'models', label: 'Models' },
  { view: 'training', label: 'Training' },
  { view: 'sessions', label: 'Sessions' },
];

/**
 * Checks the token once with a request that changes nothing (`POST /rl/actor/mode {mode:"paper"}`); a
 * refused token is dropped, so the streams stop retrying with it.
 */
async function checkToken(): Promise<{ readonly problem: string | null; readonly refused: boolean }> {
  if (getToken() === null) return { problem: 'No token: this tab is read-only. Open the URL kflow printed (http://…/#token=…) to see the live streams, deploy models and train.', refused: false };
  try {
    await apiPost('rl/actor/mode', { mode: 'paper' });
    return { problem: null, refused: false };
  } catch (error) {
    if (error instanceof ApiRequestError && (error.status === 401 || error.status === 403)) {
      return { problem: 'The server refused this token (kflow prints a new one every time it starts): open the URL it printed this time. Read-only until then.', refused: true };
    }
    return { problem: `Could not check the token: ${errorText(error)}`, refused: false };
  }
}

export function App() {
  const route = useRoute();
  const [tokenProblem, setTokenProblem] = useState<string | null>(null);
  const [lastMarket, setLastMarket] = useState<string | null>(null);

  useEffect(() => {
    store.start(getToken());
    let live = true;
    void checkToken().then(({ problem, refused }) => {
      if (!live) return;
      setTokenProblem(problem);
      if (refused) {
        forgetToken();
        setToken(null);
        store.stop();
        store.start(null);
      }
    });
    return () => {
      live = false;
      store.stop();
    };
  }, []);

  useEffect(() => {
    if (route.view === 'market' && route.arg !== null) setLastMarket(route.arg);
  }, [route]);

  // Number keys switch views, as in most trading terminals (not while typing).
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.ctrlKey || e.metaKey || e.altKey || (e.target instanceof HTMLElement && /^(INPUT|SELECT|TEXTAREA)$/.test(e.target.tagName))) return;
      const item = NAV[Number(e.key) - 1];
      if (item !== undefined) location.hash = href(item.view);
    };
    addEventListener('keydown', onKey);
    return () => removeEventListener('keydown', onKey);
  }, []);

  const active = route.view === 'market' ? 'markets' : route.view;
  return (
    <div className="app">
      <TopBar tokenProblem={tokenProblem} />
      <nav className="sidenav">
        {NAV.map((item, i) => (
          <a key={item.view} href={href(item.view)} className={active === item.view ? 'active' : ''} data-testid={`view-${item.view}`}>
            <span>{item.label}</span>
            <kbd>{i + 1}</kbd>
          </a>
        ))}
        {lastMarket === null ? null : (
          <a href={href('market', lastMarket)} className={`sub${route.view === 'market' ? ' active' : ''}`} data-testid="view-market" title={lastMarket}>
            <span>{lastMarket}</span>
          </a>
        )}
        <div className="nav-foot">
          <a href="metrics" target="_blank" rel="noreferrer">
            /metrics
          </a>
        </div>
      </nav>
      <main className="main">
        {tokenProblem === null ? null : (
          <Notice kind="warn" testId="token-problem">
            {tokenProblem}
          </Notice>
        )}
        {route.view === 'markets' ? <MarketsView /> : null}
        {route.view === 'market' ? <MarketView ticker={route.arg ?? lastMarket ?? ''} /> : null}
        {route.view === 'actions' ? <ActionsView /> : null}
        {route.view === 'portfolio' ? <PortfolioView /> : null}
        {route.view === 'models' ? <ModelsView /> : null}
        {route.view === 'training' ? <TrainingView /> : null}
        {route.view === 'sessions' ? <SessionsView episode={route.arg === null ? null : Number(route.arg)} /> : null}
      </main>
    </div>
  );
}
