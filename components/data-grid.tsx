"use client";

import { flexRender, getCoreRowModel, getSortedRowModel, useReactTable, type ColumnDef, type SortingState } from "@tanstack/react-table";
import { useMemo, useState, type ReactNode } from "react";

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
  const defs = useMemo<ColumnDef<T>[]>(
    () =>
      columns.map((c) => ({
        id: c.id,
        header: () => c.header,
        cell: (info) => c.cell(info.row.original),
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
  return (
    <div className={`overflow-x-auto ${framed ? "rounded-lg border border-slate-200 bg-white shadow-sm" : ""}`}>
      <table aria-label={label} className="table-fixed text-sm" style={{ width: "100%", minWidth: table.getTotalSize() }}>
        <colgroup>
          {table.getVisibleLeafColumns().map((column) => (
            <col key={column.id} style={{ width: column.getSize() }} />
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
                        {flexRender(header.column.columnDef.header, header.getContext())}
                        <span aria-hidden className="text-[10px]">
                          {sorted === "asc" ? "▲" : sorted === "desc" ? "▼" : "↕"}
                        </span>
                      </button>
                    ) : meta.srLabel ? (
                      <span className="sr-only">{meta.srLabel}</span>
                    ) : (
                      flexRender(header.column.columnDef.header, header.getContext())
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
                    {flexRender(cell.column.columnDef.cell, cell.getContext())}
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
