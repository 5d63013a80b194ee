import type { ReactNode } from 'react';
import { signClass } from '../format';

/** An API or stream error, shown where the data would be. */
export function ErrorBanner({ error, testId }: { readonly error: string | null | undefined; readonly testId?: string }) {
  if (error === null || error === undefined) return null;
  return (
    <div className="banner error" role="alert" data-testid={testId ?? 'error'}>
      {error}
    </div>
  );
}

export function Notice({ children, kind = 'info', testId }: { readonly children: ReactNode; readonly kind?: 'info' | 'ok' | 'warn' | 'error'; readonly testId?: string }) {
  return (
    <div className={`banner ${kind}`} role={kind === 'error' ? 'alert' : 'status'} data-testid={testId}>
      {children}
    </div>
  );
}

export function Panel({ title, right, children, className, testId }: { readonly title?: ReactNode; readonly right?: ReactNode; readonly children: ReactNode; readonly className?: string; readonly testId?: string }) {
  return (
    <section className={`panel${className === undefined ? '' : ` ${className}`}`} data-testid={testId}>
      {title === undefined && right === undefined ? null : (
        <header className="panel-head">
          <h2>{title}</h2>
          <div className="panel-tools">{right}</div>
        </header>
      )}
      {children}
    </section>
  );
}

/** A labelled figure: a metric tile. */
export function Stat({ label, value, sign, hint, testId }: { readonly label: string; readonly value: string; readonly sign?: number | null; readonly hint?: string; readonly testId?: string }) {
  return (
    <div className="stat" data-testid={testId}>
      <div className="stat-label">{label}</div>
      <div className={`stat-value num ${signClass(sign)}`}>{value}</div>
      {hint === undefined ? null : <div className="stat-hint">{hint}</div>}
    </div>
  );
}

export function Badge({ kind, children, testId }: { readonly kind: string; readonly children: ReactNode; readonly testId?: string }) {
  return (
    <span className={`badge badge-${kind}`} data-testid={testId}>
      {children}
    </span>
  );
}

export function Empty({ children }: { readonly children: ReactNode }) {
  return <div className="empty">{children}</div>;
}

/** A table's one-row placeholder (nothing to list, still loading, or what was left out). */
export function EmptyRow({ colSpan, children }: { readonly colSpan: number; readonly children: ReactNode }) {
  return (
    <tr>
      <td colSpan={colSpan} className="empty">
        {children}
      </td>
    </tr>
  );
}
