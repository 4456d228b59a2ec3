// The horizon grid (Tabulator): one row per period, the Manual column editable by typing or by
// pasting a column of numbers. The grid only reports what the planner asked for (onEdits,
// onRemove); rows change when the caller applies what the API acknowledged.

// Tabulator's core with the modules the grid uses, registered by the vendored bundle
// (page_assets.py lists them).
import { Tabulator } from "../vendor/tabulator-tables/tabulator.bundle.min.js";
import { element, formatDay, formatMoment, formatQty } from "./format.js";

const text = (value) => document.createTextNode(value);

function manualCell(cell) {
  const row = cell.getData();
  const node = cell.getElement();
  node.classList.toggle("cell-invalid", Boolean(row.problem));
  node.classList.toggle("cell-pending", row.pending !== undefined);
  if (row.problem) {
    node.setAttribute("aria-invalid", "true");
    node.title = row.problem;
    return element("span", { text: `⚠ ${row.rejected ?? formatQty(row.manual_qty)}`, attributes: { role: "img" } });
  }
  node.removeAttribute("aria-invalid");
  node.removeAttribute("title");
  if (row.pending !== undefined) return text(`${row.pending} …`);
  return text(formatQty(row.manual_qty));
}

function finalCell(cell) {
  const row = cell.getData();
  return row.is_manual ? element("strong", { text: `${formatQty(row.forecast_qty)} (manual)` }) : text(formatQty(row.forecast_qty));
}

function interval(cell) {
  const row = cell.getData();
  if (row.lower_qty === null || row.lower_qty === undefined) return text("–");
  return text(`${formatQty(row.lower_qty)} – ${formatQty(row.upper_qty)}`);
}

export class HorizonGrid {
  constructor(container, { onEdits, onRemove, onPasteRefused }) {
    this.onEdits = onEdits;
    this.onRemove = onRemove;
    this.onPasteRefused = onPasteRefused;
    this.table = new Tabulator(container, {
      index: "forecast_date",
      layout: "fitColumns",
      height: "24rem",
      selectableRange: 1,
      selectableRangeColumns: false,
      selectableRangeRows: false,
      editTriggerEvent: "dblclick",
      clipboard: true,
      clipboardCopyRowRange: "range",
      clipboardCopyStyled: false,
      clipboardCopyConfig: { columnHeaders: false, columnGroups: false, rowHeaders: false },
      clipboardPasteParser: (pasted) => this.pastePlan(pasted),
      clipboardPasteAction: (plan) => this.pasted(plan),
      placeholder: "Choose a SKU to see its horizon.",
      rowFormatter: (row) => {
        row.getElement().dataset.date = row.getData().forecast_date;
      },
      columns: [
        { title: "Period", field: "forecast_date", minWidth: 110, formatter: (cell) => text(formatDay(cell.getValue())) },
        { title: "Draft", field: "draft_qty", hozAlign: "right", formatter: (cell) => text(formatQty(cell.getValue())) },
        { title: "Interval", field: "lower_qty", hozAlign: "right", formatter: interval },
        {
          title: "Manual",
          field: "manual_qty",
          hozAlign: "right",
          editor: "input",
          editorParams: { selectContents: true, elementAttributes: { inputmode: "decimal", "aria-label": "Manual quantity" } },
          formatter: manualCell,
          cellEdited: (cell) => this.typed(cell),
        },
        { title: "Final", field: "forecast_qty", hozAlign: "right", formatter: finalCell },
        { title: "Who", field: "edited_by", formatter: (cell) => text(cell.getValue() ?? "") },
        { title: "When", field: "edited_at", formatter: (cell) => text(formatMoment(cell.getValue())) },
        { title: "", field: "sku_id", width: 95, formatter: (cell) => this.removeButton(cell) },
      ],
    });
    this.ready = new Promise((resolve) => this.table.on("tableBuilt", resolve));
  }

  async show(rows) {
    await this.ready;
    await this.table.replaceData(rows.map((row) => ({ ...row })));
  }

  update(date, fields) {
    this.mark(date, { pending: undefined, problem: undefined, rejected: undefined, ...fields });
  }

  // Row fields that are no column (pending, problem) draw only when the row is formatted again.
  mark(date, fields) {
    const row = this.table.getRow(date);
    if (!row) return;
    row.update(fields);
    row.reformat();
  }

  row(date) {
    return this.table.getRow(date)?.getData();
  }

  removeButton(cell) {
    const row = cell.getData();
    if (row.manual_qty === null || row.manual_qty === undefined) return text("");
    const button = element("button", {
      text: "Remove",
      className: "remove",
      attributes: { type: "button", "aria-label": `Remove the edit of ${row.forecast_date}` },
    });
    button.addEventListener("click", (event) => {
      event.stopPropagation();
      this.onRemove(row.forecast_date);
    });
    return button;
  }

  // A typed value: shown as pending until the API answers; an emptied cell removes the edit.
  typed(cell) {
    const typed = String(cell.getValue() ?? "").trim();
    const old = cell.getOldValue();
    const date = cell.getRow().getData().forecast_date;
    this.mark(date, { manual_qty: old });
    if (typed === "") {
      if (old !== null && old !== undefined) this.onRemove(date);
      return;
    }
    this.onEdits([{ date, text: typed }]);
  }

  // Pasted text: one value per line, into the Manual column from the selected cell down.
  pastePlan(pasted) {
    const [range] = this.table.getRanges();
    const start = range?.getCells().flat()[0];
    if (!start || start.getField() !== "manual_qty") {
      this.onPasteRefused("Select a cell of the Manual column, then paste.");
      return false;
    }
    const lines = pasted.replaceAll("\r\n", "\n").split("\n");
    while (lines.length && lines.at(-1).trim() === "") lines.pop();
    const rows = this.table.getRows("active");
    const first = rows.indexOf(start.getRow());
    const values = lines.map((line) => line.split("\t")[0].trim());
    if (first + values.length > rows.length) {
      this.onPasteRefused(`${values.length} values do not fit: ${rows.length - first} periods from the selected one.`);
      return false;
    }
    return values.map((value, i) => ({ date: rows[first + i].getData().forecast_date, text: value }));
  }

  pasted(plan) {
    this.onEdits(plan);
    return [];
  }

  markPending(changes) {
    for (const { date, text: typed } of changes) this.mark(date, { pending: typed, problem: undefined, rejected: undefined });
  }

  clearPending(changes) {
    for (const { date } of changes) this.mark(date, { pending: undefined });
  }

  // problems: date -> {message, rejected}: the bad cells, marked with the API's reason.
  markProblems(problems) {
    for (const [date, problem] of problems) {
      this.mark(date, { pending: undefined, problem: problem.message, rejected: problem.rejected });
    }
  }
}
