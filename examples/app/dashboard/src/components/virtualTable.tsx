import { useVirtualizer } from '@tanstack/react-virtual';
import { type ReactNode, useRef } from 'react';

export interface VirtualTableProps {
  readonly count: number;
  readonly rowHeight: number;
  /** The header row: it sits in the scrolling box (sticky), so its columns line up with the rows'. */
  readonly header: ReactNode;
  /** Row `index`, absolutely placed `top` px down (use `transform: translateY(top)`). */
  readonly row: (index: number, top: number) => ReactNode;
  readonly empty: ReactNode;
  readonly testId?: string;
  readonly scrollerTestId?: string;
}

const HEADER_HEIGHT = 26;

/** A table of many fixed-height rows of which only the visible ones (plus a margin) are in the DOM. */
export function VirtualTable(p: VirtualTableProps) {
  const scroller = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: p.count,
    getScrollElement: () => scroller.current,
    estimateSize: () => p.rowHeight,
    overscan: 12,
    scrollMargin: HEADER_HEIGHT,
  });
  return (
    <div className="table" role="table" data-testid={p.testId}>
      <div className="tbody" ref={scroller} data-testid={p.scrollerTestId}>
        <div className="thead-sticky">{p.header}</div>
        {p.count === 0 ? (
          p.empty
        ) : (
          <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
            {virtualizer.getVirtualItems().map((v) => p.row(v.index, v.start - HEADER_HEIGHT))}
          </div>
        )}
      </div>
    </div>
  );
}
