// Numbers and dates in the browser's locale, and numbers typed or pasted in it.

const quantity = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });
const percent = new Intl.NumberFormat(undefined, { style: "percent", maximumFractionDigits: 1 });
const day = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeZone: "UTC" });
const moment = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

const parts = new Intl.NumberFormat().formatToParts(12345.6);
const GROUP = parts.find((part) => part.type === "group")?.value ?? ",";
const DECIMAL = parts.find((part) => part.type === "decimal")?.value ?? ".";

export const formatQty = (value) => (value === null || value === undefined ? "" : quantity.format(value));
export const formatShare = (value) => (value === null || value === undefined ? "–" : percent.format(value));
export const formatDay = (iso) => (iso ? day.format(new Date(`${iso}T00:00:00Z`)) : "");
export const formatMoment = (iso) => (iso ? moment.format(new Date(iso)) : "");

// "1.234,5" in German, "1,234.5" in English: the number, or null if the text is not one.
export function parseQty(text) {
  const cleaned = String(text).trim().replaceAll(/[\s\u00a0\u202f]/g, "").replaceAll(GROUP, "");
  const normal = DECIMAL === "." ? cleaned : cleaned.replace(DECIMAL, ".");
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(normal)) return null;
  return Number(normal);
}

// Seconds since the epoch of a YYYY-MM-DD date, the chart's x.
export const epochSeconds = (iso) => Date.parse(`${iso}T00:00:00Z`) / 1000;

// A short DOM helper: an element with text and attributes, never HTML from data.
export function element(tag, { text, className, attributes = {} } = {}, children = []) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}
