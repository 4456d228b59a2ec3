// The accuracy panel and the edit log: plain tables built from the API's rows.

import { element, formatDay, formatMoment, formatQty, formatShare } from "./format.js";

function table(caption, headings, rows) {
  return element("table", { className: "facts" }, [
    element("caption", { text: caption }),
    element("thead", {}, [element("tr", {}, headings.map((heading) => element("th", { text: heading, attributes: { scope: "col" } })))]),
    element(
      "tbody",
      {},
      rows.map(({ cells, className }) => element("tr", { className }, cells.map((cell) => element("td", { text: cell })))),
    ),
  ]);
}

const COMBINATION = "top3_median";

// One series' backtest: the combination against each single method, ranks and members.
export function seriesAccuracy(container, rows) {
  if (!rows.length) {
    container.replaceChildren(element("p", { text: "Too short a history for a backtest: the draft is the mean of what there is." }));
    return;
  }
  const combined = rows.find((row) => row.method === COMBINATION);
  container.replaceChildren(
    table(
      "WAPE of window 1 (the latest periods, scored honestly) and over every window",
      ["Method", "Rank", "Member", "WAPE window 1", "WAPE all", "MAE all", "Bias all", "Interval coverage"],
      rows.map((row) => ({
        className: row.method === COMBINATION ? "combination" : "",
        cells: [
          row.method === COMBINATION ? `${row.method} (the draft)` : row.method,
          row.method_rank ?? "–",
          row.method === COMBINATION ? "–" : row.is_member ? "yes" : "no",
          formatShare(row.window_1_wape),
          formatShare(row.wape),
          formatQty(row.mae),
          formatShare(row.bias),
          row.method === COMBINATION ? formatShare(row.window_1_coverage) : "–",
        ],
      })),
    ),
    ...(combined ? [] : [element("p", { text: "No combination score for this series." })]),
  );
}

// The tenant's roll-up: every method on window 1, and the combination with its coverage.
export function tenantAccuracy(container, rows) {
  container.replaceChildren(
    table(
      "Window 1 across the tenant's series",
      ["Method", "Series", "WAPE", "MAE", "Bias", "Interval coverage (level)"],
      rows.map((row) => ({
        className: row.method === COMBINATION ? "combination" : "",
        cells: [
          row.method === COMBINATION ? `${row.method} (the draft)` : row.method,
          row.series_count ?? "–",
          formatShare(row.wape),
          formatQty(row.mae),
          formatShare(row.bias),
          row.interval_level === null ? "–" : `${formatShare(row.interval_coverage)} (${formatShare(row.interval_level)})`,
        ],
      })),
    ),
  );
}

const LOG_SHOWN = 50;

// The SKU's edit log, newest first: the latest entries, and a button for the rest.
export function editLog(container, entries, shown = LOG_SHOWN) {
  if (!entries.length) {
    container.replaceChildren(element("p", { text: "No edit of this SKU yet." }));
    return;
  }
  const newest = [...entries].reverse();
  const rest = newest.length - shown;
  const more = element("button", { text: `Show all ${newest.length} changes`, attributes: { type: "button" } });
  more.addEventListener("click", () => editLog(container, entries, newest.length));
  container.replaceChildren(
    table(
      "Every change of this SKU's periods",
      ["When", "Who", "Period", "Change", "Old", "New", "Reason"],
      newest.slice(0, shown).map((entry) => ({
        cells: [
          formatMoment(entry.edited_at),
          entry.edited_by,
          formatDay(entry.forecast_date),
          entry.action === "remove" ? "removed" : "set",
          formatQty(entry.old_qty),
          formatQty(entry.new_qty),
          entry.reason ?? "",
        ],
      })),
    ),
    ...(rest > 0 ? [more] : []),
  );
}
