"use client";

import { getCoreRowModel, getSortedRowModel, useReactTable, type ColumnDef, type SortingState } from "@tanstack/react-table";
import { useEffect, useMemo, useRef, useState, type ReactNode } from "react";

/** One column of a DataGrid: what its cells show, and how it sorts (no `sort`: not sortable). */
export interface GridColumn<T> {
  id: string;
  header: ReactNode;
  cell: (row: T) => ReactNode;
  /** The value the column sorts by. */
  sort?: (row: T) => string | number | null | undefined;
  /** Starting width in px; the reader can drag a header's edge to change it. */
  size?: number;
  align?: "right";
  /** Classes for each cell (e.g. `whitespace-nowrap text-slate-500`). */
  className?: string;
  /** A label for screen readers when the header shows nothing. */
  srLabel?: string;
  /** Let the cell's content wrap (badges, buttons) instead of truncating it. */
  wrap?: boolean;
  /**
   * Keep this width when space is short (dates, sizes, counts). The default: right-aligned and
   * no-wrap columns are fixed, the others (names, subjects, text) share what is left.
   */
  fixed?: boolean;
}

/** Narrowest a shared column is made before the table scrolls sideways instead. */
const MIN_FLEX = 88;

const isFixed = <T,>(c: GridColumn<T>) => c.fixed ?? (c.align === "right" || (c.className ?? "").includes("whitespace-nowrap"));

/**
 * Column widths for a container `width` px wide: fixed columns keep their size, the others
 * shrink in proportion (to MIN_FLEX at least) so the table fits; wider containers stretch all.
 */
export function fitWidths(columns: { size: number; fixed: boolean }[], width: number | null): number[] {
  if (!width) return columns.map((c) => c.size);
  const fixed = columns.filter((c) => c.fixed).reduce((n, c) => n + c.size, 0);
  const flex = columns.filter((c) => !c.fixed).reduce((n, c) => n + c.size, 0);
  if (fixed + flex <= width || flex === 0) return columns.map((c) => c.size);
  const scale = Math.max(0, (width - fixed) / flex);
  return columns.map((c) => (c.fixed ? c.size : Math.max(MIN_FLEX, Math.floor(c.size * scale))));
}

/**
 * The console's one table (TanStack Table): a labelled table whose columns sort on a click of the
 * header (the rows shown; a server-paged list sorts its page) and resize by dragging the header's
 * edge. Columns have a width each and the table scrolls sideways rather than clip one, so every
 * column stays readable at 1280 px; long text truncates with its full value on hover.
 */
export function DataGrid<T>({
  label,
  columns,
  rows,
  rowKey,
  rowClassName,
  initialSort,
  framed = true,
}: {
  label: string;
  columns: GridColumn<T>[];
  rows: T[];
  rowKey: (row: T) => string | number;
  rowClassName?: (row: T) => string;
  initialSort?: SortingState;
  /** In a bordered card of its own (default), or bare inside a Card. */
  framed?: boolean;
}) {
  const [sorting, setSorting] = useState<SortingState>(initialSort ?? []);
  const box = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState<number | null>(null);
  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const observer = new ResizeObserver(([entry]) => setWidth(Math.floor(entry!.contentRect.width)));
    observer.observe(element);
    return () => observer.disconnect();
  }, []);
  const defs = useMemo<ColumnDef<T>[]>(
    () =>
      columns.map((c) => ({
        id: c.id,
        // Rendered by the grid itself (below), not through flexRender: a function here would be
        // taken for a component, and a new one each render would remount the cell (its buttons' state).
        header: "",
        accessorFn: c.sort ? (row: T) => c.sort!(row) ?? "" : undefined,
        enableSorting: Boolean(c.sort),
        size: c.size ?? 160,
        minSize: 48,
        meta: c,
      })),
    [columns],
  );
  const table = useReactTable({
    data: rows,
    columns: defs,
    state: { sorting },
    onSortingChange: setSorting,
    getCoreRowModel: getCoreRowModel(),
    getSortedRowModel: getSortedRowModel(),
    getRowId: (row) => String(rowKey(row)),
    columnResizeMode: "onChange",
    enableColumnResizing: true,
  });
  // Until the reader drags a column, the widths fit the container; after, they are the reader's.
  const leaves = table.getVisibleLeafColumns();
  const resized = Object.keys(table.getState().columnSizing).length > 0;
  const widths = resized ? leaves.map((c) => c.getSize()) : fitWidths(leaves.map((c) => ({ size: c.getSize(), fixed: isFixed(c.columnDef.meta as GridColumn<T>) })), width);
  return (
    <div ref={box} className={`overflow-x-auto ${framed ? "rounded-lg border border-slate-200 bg-white shadow-sm" : ""}`}>
      <table aria-label={label} className="table-fixed text-sm" style={{ width: "100%", minWidth: widths.reduce((n, w) => n + w, 0) }}>
        <colgroup>
          {leaves.map((column, i) => (
            <col key={column.id} style={{ width: widths[i] }} />
          ))}
        </colgroup>
        <thead className="bg-slate-50 text-left text-xs uppercase tracking-wide text-slate-500">
          {table.getHeaderGroups().map((group) => (
            <tr key={group.id}>
              {group.headers.map((header) => {
                const meta = header.column.columnDef.meta as GridColumn<T>;
                const sorted = header.column.getIsSorted();
                return (
                  <th
                    key={header.id}
                    scope="col"
                    aria-sort={sorted === "asc" ? "ascending" : sorted === "desc" ? "descending" : undefined}
                    className={`relative px-3 py-2 font-medium ${meta.align === "right" ? "text-right" : ""}`}
                  >
                    {header.column.getCanSort() ? (
                      <button type="button" onClick={header.column.getToggleSortingHandler()} className="inline-flex items-center gap-1 uppercase hover:text-slate-800" title="Sort">
                        {meta.header}
                        <span aria-hidden className="text-[10px]">
                          {sorted === "asc" ? "▲" : sorted === "desc" ? "▼" : "↕"}
                        </span>
                      </button>
                    ) : meta.srLabel ? (
                      <span className="sr-only">{meta.srLabel}</span>
                    ) : (
                      meta.header
                    )}
                    <span
                      aria-hidden
                      title="Drag to resize; double-click to reset"
                      onMouseDown={header.getResizeHandler()}
                      onTouchStart={header.getResizeHandler()}
                      onDoubleClick={() => header.column.resetSize()}
                      className="absolute top-0 right-0 h-full w-1.5 cursor-col-resize select-none hover:bg-sky-300"
                    />
                  </th>
                );
              })}
            </tr>
          ))}
        </thead>
        <tbody className="divide-y divide-slate-100">
          {table.getRowModel().rows.map((row) => (
            <tr key={row.id} className={rowClassName?.(row.original) ?? ""}>
              {row.getVisibleCells().map((cell) => {
                const meta = cell.column.columnDef.meta as GridColumn<T>;
                return (
                  <td key={cell.id} className={`${meta.wrap ? "" : "truncate"} px-3 py-1.5 ${meta.align === "right" ? "text-right tabular-nums" : ""} ${meta.className ?? ""}`}>
                    {meta.cell(row.original)}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
