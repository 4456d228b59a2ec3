// The planning page: sign in, find a SKU, see its series, edit its horizon, judge the draft.

import { Api, forgetSession, saveSession, savedSession } from "./api.js";
import { SeriesChart } from "./chart.js";
import { element, formatDay, formatMoment, formatQty, parseQty } from "./format.js";
import { HorizonGrid } from "./grid.js";
import { editLog, seriesAccuracy, tenantAccuracy } from "./panels.js";
import { SkuFinder } from "./skus.js";

const $ = (id) => document.getElementById(id);
const GRAIN_DAYS = { day: 1, week: 7, month: 31 };
const ALL = 10000;

const page = {
  api: null,
  user: null,
  showManual: true,
  sku: null,
  history: [],
  forecast: [],
  versions: new Map(),
  ready: Promise.resolve(), // the open SKU's versions are known
  opening: 0,
};
let finder, chart, grid;

// Banners, one per cause, so a cause that is gone takes its banner with it.
function banner(cause, message) {
  const existing = $("banners").querySelector(`[data-cause="${cause}"]`);
  if (!message) return existing?.remove();
  const node = existing ?? $("banners").appendChild(element("p", { className: "banner", attributes: { "data-cause": cause } }));
  node.textContent = message;
}

function status(message) {
  $("grid-status").textContent = message;
}

function handleError(error) {
  if (error.status === 401) {
    forgetSession();
    showSignIn("The session's token is no longer valid: sign in again.");
  } else if (error.status === 503 || error.status === 0) {
    banner("unavailable", `The API is not available: ${error.message}. The page shows what it last loaded.`);
  } else {
    banner("error", `The API refused a request: ${error.message}`);
  }
}

function showFreshness(freshness) {
  banner("unavailable", null);
  const line = $("freshness");
  line.hidden = false;
  line.textContent = `Draft built ${formatMoment(freshness.builtAt)} · edits as of ${formatMoment(freshness.editsAsOf)} · source ${freshness.source}`;
  line.dataset.builtAt = freshness.builtAt;
  checkStale();
}

// A draft older than one period of the tenant's grain is a warning, not a blank page.
function checkStale() {
  const freshness = page.api?.freshness;
  const grain = finder?.grain;
  if (!freshness || !grain) return;
  const days = (Date.now() - Date.parse(freshness.builtAt)) / 86_400_000;
  const stale = days > GRAIN_DAYS[grain];
  banner("stale", stale ? `The draft was built ${Math.floor(days)} days ago, more than one ${grain} ago: a newer build may be due.` : null);
}

function showSignIn(message = "") {
  $("workspace").hidden = true;
  $("who").hidden = true;
  $("sign-out").hidden = true;
  $("sign-in").hidden = false;
  $("sign-in-error").textContent = message;
  $("tenant").value = savedSession()?.tenant ?? $("tenant").value;
  $("tenant").focus();
}

async function signIn(session) {
  const api = new Api(session);
  const prefs = await api.get("prefs");
  saveSession(session);
  page.api = api;
  page.user = prefs.user_id;
  page.showManual = prefs.show_manual;
  api.onFreshness = showFreshness;
  $("sign-in").hidden = true;
  $("workspace").hidden = false;
  $("who").hidden = false;
  $("who").textContent = `${prefs.tenant_id} · ${prefs.user_id}`;
  $("sign-out").hidden = false;
  $("show-manual").checked = page.showManual;
  // Built once the workspace shows: the grid measures its header when it is made.
  chart ??= new SeriesChart($("chart"));
  grid ??= new HorizonGrid($("grid"), { onEdits: sendEdits, onRemove: removeEdit, onPasteRefused: status });
  finder = new SkuFinder(api, { onOpen: openSku, onError: handleError, onLoaded: checkStale });
  await finder.reload();
  api.get("accuracy").then((answer) => tenantAccuracy($("tenant-accuracy"), answer.rows), handleError);
}

// The latest version of each period's edit, from the SKU's log: what expected_version sends.
function versionsOf(entries) {
  return new Map(entries.map((entry) => [entry.forecast_date, entry.version]));
}

const micros = (iso) => iso.replace(/(\.\d+)?Z$/, (fraction) => `${(fraction.slice(0, -1) || ".").padEnd(7, "0")}Z`);

async function openSku(sku) {
  const opening = ++page.opening;
  performance.mark("sku-open");
  const params = { sku_id: sku.sku_id, limit: ALL };
  // The log (for the versions edits are sent with) is read beside the series, not waited for.
  const log = page.api.all("edits/log", params, "entries");
  let forecast, history;
  try {
    [forecast, history] = await Promise.all([page.api.all("forecast", params), page.api.all("history", params)]);
  } catch (error) {
    handleError(error);
    return;
  }
  if (opening !== page.opening) return;
  performance.mark("sku-loaded");
  Object.assign(page, { sku, history, forecast, versions: new Map() });
  page.ready = log.then((entries) => followLog(opening, entries, params)).catch(handleError);
  $("series-title").textContent = `${sku.sku_id} ${sku.sku_name ?? ""}`;
  $("series-summary").textContent = sku.members
    ? `Draft: ${sku.method}, the median of ${sku.members.join(", ")}.`
    : `Draft: ${sku.method} (too short a history to backtest).`;
  $("legend").hidden = false;
  chart.draw(history, forecast, page.showManual);
  await grid.show(forecast);
  requestAnimationFrame(() => {
    performance.mark("sku-drawn");
    performance.measure("sku-open-to-drawn", "sku-open", "sku-drawn");
    performance.measure("sku-open-to-loaded", "sku-open", "sku-loaded");
    document.body.dataset.drawn = sku.sku_id;
  });
  status("");
  page.api.get("accuracy", { sku_id: sku.sku_id }).then((answer) => seriesAccuracy($("series-accuracy"), answer.rows), handleError);
}

// The SKU's log: the versions to send, and the log panel. When the log saw an edit the
// forecast did not, the forecast is read again, so a version sent never claims a value
// the page has not shown.
async function followLog(opening, entries, params) {
  const latest = entries.reduce((last, entry) => (micros(entry.edited_at) > last ? micros(entry.edited_at) : last), "");
  if (latest > micros(page.forecast.freshness.editsAsOf)) {
    const forecast = await page.api.all("forecast", params);
    if (opening !== page.opening) return;
    page.forecast = forecast;
    chart.draw(page.history, forecast, page.showManual);
    await grid.show(forecast);
  }
  if (opening !== page.opening) return;
  page.versions = versionsOf(entries);
  editLog($("edit-log"), entries);
}

function redraw() {
  chart.draw(page.history, page.forecast, page.showManual);
  finder.setEditCount(page.sku.sku_id, page.forecast.filter((row) => row.manual_qty !== null).length);
}

// A period's row as the API now holds it: manual (or null), by whom and when.
function applyRow(date, manual, editedBy, editedAt) {
  const row = page.forecast.find((candidate) => candidate.forecast_date === date);
  const shown = manual !== null && page.showManual;
  Object.assign(row, {
    manual_qty: manual,
    forecast_qty: shown ? manual : row.draft_qty,
    is_manual: shown,
    edited_by: manual === null ? null : editedBy,
    edited_at: manual === null ? null : editedAt,
  });
  grid.update(date, row);
}

async function refreshLog() {
  const log = await page.api.all("edits/log", { sku_id: page.sku.sku_id, limit: ALL }, "entries");
  editLog($("edit-log"), log);
}

// changes: [{date, text}] typed or pasted; one PUT for all of them, all or nothing.
async function sendEdits(changes, expected = new Map()) {
  await page.ready;
  const reason = $("reason").value.trim();
  const edits = changes.map(({ date, text }) => ({
    sku_id: page.sku.sku_id,
    forecast_date: date,
    qty: parseQty(text) ?? text,
    ...(reason ? { reason } : {}),
    expected_version: expected.get(date) ?? page.versions.get(date) ?? 0,
  }));
  grid.markPending(changes);
  status(`Saving ${edits.length === 1 ? "1 change" : `${edits.length} changes`}…`);
  let answer;
  try {
    answer = await page.api.putEdits(edits);
  } catch (error) {
    grid.clearPending(changes);
    if (error.status === 422 && Array.isArray(error.details)) markInvalid(changes, error);
    else if (error.status === 409) showConflict(changes, edits, error.details.conflicts);
    else handleError(error);
    return;
  }
  for (const saved of answer.edits) {
    page.versions.set(saved.forecast_date, saved.version);
    applyRow(saved.forecast_date, saved.qty, page.user, saved.edited_at);
  }
  redraw();
  status(`Saved ${answer.edits.length === 1 ? "1 change" : `${answer.edits.length} changes`}.`);
  refreshLog().catch(handleError);
}

function markInvalid(changes, error) {
  const problems = new Map(
    error.details.map((bad) => [
      changes[bad.index].date,
      { message: bad.problems.map((problem) => problem.message).join("; "), rejected: changes[bad.index].text },
    ]),
  );
  grid.markProblems(problems);
  const [date, first] = problems.entries().next().value;
  status(`${error.message}: ${formatDay(date)} “${first.rejected}”: ${first.message}.`);
}

function showConflict(changes, edits, conflicts) {
  const theirs = (current) => (current === null || current.is_removed ? "no edit (draft)" : formatQty(current.qty));
  $("conflict-rows").replaceChildren(
    ...conflicts.map((conflict) =>
      element("tr", {}, [
        element("td", { text: formatDay(conflict.forecast_date) }),
        element("td", { text: formatQty(edits[conflict.index].qty) }),
        element("td", { text: theirs(conflict.current) }),
        element("td", { text: conflict.current ? `${conflict.current.edited_by}, ${formatMoment(conflict.current.edited_at)}` : "" }),
      ]),
    ),
  );
  const panel = $("conflict");
  panel.hidden = false;
  status(`Not saved: someone else changed ${conflicts.length === 1 ? "this period" : "these periods"} first.`);
  const versions = new Map(conflicts.map((conflict) => [conflict.forecast_date, conflict.current?.version ?? 0]));
  const close = () => {
    panel.hidden = true;
    panel.onkeydown = null;
  };
  $("keep-mine").onclick = () => {
    close();
    sendEdits(changes, versions);
  };
  $("take-theirs").onclick = () => {
    close();
    for (const conflict of conflicts) {
      const current = conflict.current;
      page.versions.set(conflict.forecast_date, current?.version ?? 0);
      const manual = current === null || current.is_removed ? null : current.qty;
      applyRow(conflict.forecast_date, manual, current?.edited_by, current?.edited_at);
    }
    redraw();
    const others = changes.filter((change) => !versions.has(change.date));
    if (others.length) sendEdits(others);
    else status("Took their values.");
    refreshLog().catch(handleError);
  };
  panel.onkeydown = (event) => {
    if (event.key !== "Escape") return;
    close();
    status("Left as it was: reloaded what the API holds now.");
    openSku(page.sku);
  };
  $("keep-mine").focus();
}

async function removeEdit(date) {
  await page.ready;
  try {
    await page.api.removeEdit(page.sku.sku_id, date);
  } catch (error) {
    if (error.status === 404) {
      status(`${formatDay(date)} had no edit any more: reloaded.`);
      openSku(page.sku);
    } else handleError(error);
    return;
  }
  page.versions.set(date, (page.versions.get(date) ?? 0) + 1);
  applyRow(date, null, null, null);
  redraw();
  status(`Removed the edit of ${formatDay(date)}: the draft shows again.`);
  refreshLog().catch(handleError);
}

async function toggleManual(event) {
  const wanted = event.target.checked;
  try {
    const prefs = await page.api.putPrefs({ show_manual: wanted });
    page.showManual = prefs.show_manual;
    if (page.sku) {
      page.forecast = await page.api.all("forecast", { sku_id: page.sku.sku_id, limit: ALL });
      chart.draw(page.history, page.forecast, page.showManual);
      await grid.show(page.forecast);
    }
    status(page.showManual ? "Showing manual values." : "Showing the draft only.");
  } catch (error) {
    event.target.checked = !wanted;
    handleError(error);
  }
}

function start() {
  $("show-manual").addEventListener("change", toggleManual);
  $("sign-out").addEventListener("click", () => {
    forgetSession();
    location.reload();
  });
  $("sign-in-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const session = { tenant: $("tenant").value.trim(), token: $("token").value.trim() };
    try {
      await signIn(session);
      $("token").value = "";
    } catch (error) {
      const reasons = {
        401: "This token is not known: check it, or ask for a new one.",
        403: `This token is not for tenant ${session.tenant}.`,
      };
      $("sign-in-error").textContent = reasons[error.status] ?? `Could not sign in: ${error.message}`;
    }
  });
  const saved = savedSession();
  if (saved) signIn(saved).catch(() => showSignIn("Sign in again."));
  else showSignIn();
}

start();
